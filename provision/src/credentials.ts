import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const fileSchema = z.object({ users: z.record(z.string(), z.string()), clusterId: z.string().optional() });

/**
 * SCRAM passwords of the users provisioning created, in one 0600 file. It is also the list of users provisioning
 * manages: a user in it that the contracts no longer name is deleted, with its ACLs.
 */
export class CredentialsStore {
  private users: Record<string, string>;
  /**
   * The Kafka cluster these passwords were last set on. A store outlives a cluster (the one-node and the three-node
   * stack keep separate data; a data dir may be removed): on another cluster every user is set again.
   */
  clusterId: string | undefined;

  constructor(private readonly file: string) {
    const parsed = fs.existsSync(file)
      ? fileSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")))
      : undefined;
    this.users = parsed?.users ?? {};
    this.clusterId = parsed?.clusterId;
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
    fs.writeFileSync(
      tmp,
      JSON.stringify(
        { users: this.users, ...(this.clusterId ? { clusterId: this.clusterId } : {}) },
        null,
        2,
      ) + "\n",
      { mode: 0o600 },
    );
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
