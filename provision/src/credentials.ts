import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const fileSchema = z.object({ users: z.record(z.string(), z.string()) });

/**
 * SCRAM passwords of the users provisioning created, in one 0600 file. It is also the list of users provisioning
 * manages: a user in it that the contracts no longer name is deleted, with its ACLs.
 */
export class CredentialsStore {
  private users: Record<string, string>;

  constructor(private readonly file: string) {
    this.users = fs.existsSync(file) ? fileSchema.parse(JSON.parse(fs.readFileSync(file, "utf8"))).users : {};
  }

  names(): string[] {
    return Object.keys(this.users).sort();
  }

  get(name: string): string | undefined {
    return this.users[name];
  }

  /** A new random password for `name`, remembered (call save()). */
  rotate(name: string): string {
    const password = crypto.randomBytes(24).toString("base64url");
    this.users[name] = password;
    return password;
  }

  forget(name: string): void {
    delete this.users[name];
  }

  save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ users: this.users }, null, 2) + "\n", { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}

/** Reads one user's password from a credentials file (for services and tests on the local stack). */
export function readCredential(file: string, name: string): string {
  const password = new CredentialsStore(file).get(name);
  if (!password)
    throw new Error(`no credentials for ${name} in ${file}: run \`npm run contracts:apply\` first`);
  return password;
}
