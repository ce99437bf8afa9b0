// The repository's own ESLint plugin: `grondslag/package-boundaries` (see package-boundaries.js and graph.js).
import { packageBoundaries } from "./package-boundaries.js";

export default {
  meta: { name: "eslint-plugin-grondslag" },
  rules: { "package-boundaries": packageBoundaries },
};
