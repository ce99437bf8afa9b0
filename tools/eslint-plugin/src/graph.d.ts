export interface PackageEntry {
  dir: string;
  may: string[] | "*";
  tests: string[];
  pure?: boolean;
  service?: boolean;
  why?: string;
  fix?: string;
}
export const packages: Record<string, PackageEntry>;
export const service: Pick<PackageEntry, "may" | "tests" | "why" | "fix">;
export const testFiles: string[];
export const ioModules: string[];
export const exceptions: { file: string; import: string; todo: string }[];
export const temporary: { import: string; onlyFrom: string; fix: string }[];
