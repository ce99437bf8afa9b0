export * from "./errors";
export * from "./framing";
export * from "./headers";
export * from "./topics";
export * from "./trace";
