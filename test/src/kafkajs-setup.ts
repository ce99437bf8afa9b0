// Every spec file: the kit's filter of aborted transactions goes in kafkajs' place before a spec loads kafkajs, so the
// specs' own readers (read_committed, kafkajs' default) see what the services see (services/kit/src/kafkajs-aborted.ts).
import "@grondslag/kit";
