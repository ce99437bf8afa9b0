export * from "./pseudonym";
export * from "./record";
