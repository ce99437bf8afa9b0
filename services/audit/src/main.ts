// `npm run start -w @grondslag/audit`: the audit service (see process.ts).
import { auditProcess } from "./process";

auditProcess.main();
