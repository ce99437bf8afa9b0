import type { Rule } from "eslint";

export const packageBoundaries: Rule.RuleModule;
export const defaultRoot: string;
