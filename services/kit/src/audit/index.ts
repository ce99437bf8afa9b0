export * from "./pseudonym";
export * from "./record";
export * from "./log";
