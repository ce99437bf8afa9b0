/**
 * The agency services `npm start` runs, one process each: the service (its folder under services/), the party the
 * instance is, and the port of its desk API. The gemeente, inspectie and uitlener codebases run once per party.
 */
export interface AgencyInstance {
  service: string;
  party: string;
  port: number;
  transport: "kafka" | "http";
}

export const AGENCIES: readonly AgencyInstance[] = [
  { service: "szw-toelating", party: "szw.toelating", port: 8090, transport: "kafka" },
  { service: "nla", party: "nla", port: 8091, transport: "kafka" },
  { service: "belastingdienst", party: "belastingdienst", port: 8092, transport: "kafka" },
  { service: "uwv", party: "uwv", port: 8093, transport: "kafka" },
  { service: "svb", party: "svb", port: 8094, transport: "kafka" },
  { service: "gemeente", party: "gemeente.schiedam", port: 8095, transport: "http" },
  { service: "gemeente", party: "gemeente.horst-aan-de-maas", port: 8096, transport: "http" },
  { service: "inspectie", party: "inspectie.sna", port: 8097, transport: "http" },
  { service: "uitlener", party: "uitlener.90000001", port: 8098, transport: "http" },
  { service: "uitlener", party: "uitlener.90000002", port: 8099, transport: "http" },
  { service: "uitlener", party: "inlener.90000101", port: 8100, transport: "http" },
];

/** The process name of an instance (pid and log files): `nla`, `gemeente.schiedam`. */
export const processName = (a: AgencyInstance): string => (a.service === a.party ? a.service : a.party);

/** Its PostgreSQL schema in `npm start`'s database: `agency_szw_toelating`, `agency_gemeente_schiedam`. */
export const schemaOf = (a: AgencyInstance): string => `agency_${a.party.replace(/[^a-z0-9]+/g, "_")}`;

/** Its consumer groups' prefix (a party's groups start with `<party>.`). */
export const groupPrefixOf = (a: AgencyInstance): string => `${a.party}.${a.service}`;
