// Tries what a party might try with its own broker credentials, on Kafka's own Java clients (the fetched jars,
// not kafkajs), and prints what the broker answered. Run on the broker's classpath like ScramUsers.java.
// Reads probes from stdin, one a line, tab-separated:
//   <id> <user> <password> <op> [<arg> ...]
// ops:
//   read <topic>                    fetch partition 0 from the beginning, no consumer group
//   subscribe <topic> <group>       join <group> subscribed to <topic> and poll until assigned
//   write <topic>                   produce one record, acks=all
//   create <topic>                  create a topic (1 partition)
//   delete <topic>                  delete a topic
//   alter-config <topic>            set retention.ms=1 on a topic
//   delete-records <topic>          truncate partition 0 of a topic
//   commit <group> <topic>          commit offset 0 of <topic>:0 for <group> from outside the group
//   transaction <transactional.id>  initialise a transactional producer with that id
//   describe-acls                   list every ACL
// For each probe it writes one line to the file named by its one argument (the clients' own logging goes to the
// console): "<id>\tOK", or "<id>\tFAIL\t<exception class>\t<message>" with the innermost cause. An empty password connects without SASL at all (PLAINTEXT to a SASL listener).
// Probes run on a few threads: every probe is its own client, and refusals come back in milliseconds.
// Connection from env: GRONDSLAG_KAFKA_BROKERS.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class AccessProbe {
  /** Long enough for a refusal or a real read on a loaded machine; short enough that a hang is reported, not waited on. */
  private static final int TIMEOUT_MS = 15_000;

  private static Properties client(String user, String password) {
    Properties p = new Properties();
    p.put("bootstrap.servers", System.getenv("GRONDSLAG_KAFKA_BROKERS"));
    if (password.isEmpty()) {
      p.put("security.protocol", "PLAINTEXT");
    } else {
      p.put("security.protocol", "SASL_PLAINTEXT");
      p.put("sasl.mechanism", "SCRAM-SHA-256");
      p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
          + user + "\" password=\"" + password.replace("\\", "\\\\").replace("\"", "\\\"") + "\";");
    }
    p.put("request.timeout.ms", Integer.toString(TIMEOUT_MS));
    p.put("default.api.timeout.ms", Integer.toString(TIMEOUT_MS));
    p.put("client.id", "access-probe-" + user);
    return p;
  }

  private static Admin admin(String user, String password) {
    return Admin.create(client(user, password));
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String user, String password, String group) {
    Properties p = client(user, password);
    if (group != null) p.put("group.id", group);
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("session.timeout.ms", "10000");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static KafkaProducer<byte[], byte[]> producer(String user, String password, String transactionalId) {
    Properties p = client(user, password);
    p.put("acks", "all");
    p.put("max.block.ms", Integer.toString(TIMEOUT_MS));
    p.put("delivery.timeout.ms", Integer.toString(TIMEOUT_MS));
    p.put("request.timeout.ms", Integer.toString(TIMEOUT_MS - 1000));
    if (transactionalId != null) {
      p.put("transactional.id", transactionalId);
      p.put("enable.idempotence", "true");
    } else {
      p.put("retries", "0");
    }
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static void run(String user, String password, String op, List<String> a) throws Exception {
    switch (op) {
      case "read" -> {
        try (var c = consumer(user, password, null)) {
          TopicPartition tp = new TopicPartition(a.get(0), 0);
          c.assign(List.of(tp));
          c.seekToBeginning(List.of(tp));
          // A fetch the broker refuses throws here; an allowed one returns (records or none) without an error.
          c.poll(Duration.ofMillis(2000));
          c.position(tp, Duration.ofMillis(TIMEOUT_MS));
        }
      }
      case "subscribe" -> {
        try (var c = consumer(user, password, a.get(1))) {
          c.subscribe(List.of(a.get(0)));
          long deadline = System.currentTimeMillis() + TIMEOUT_MS;
          while (c.assignment().isEmpty()) {
            if (System.currentTimeMillis() > deadline) throw new IllegalStateException("no assignment within " + TIMEOUT_MS + " ms");
            ConsumerRecords<byte[], byte[]> ignored = c.poll(Duration.ofMillis(500));
          }
        }
      }
      case "write" -> {
        try (var p = producer(user, password, null)) {
          p.send(new ProducerRecord<>(a.get(0), "access-probe".getBytes(StandardCharsets.UTF_8)))
              .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      }
      case "create" -> {
        try (var ad = admin(user, password)) {
          ad.createTopics(List.of(new NewTopic(a.get(0), 1, (short) 1))).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      }
      case "delete" -> {
        try (var ad = admin(user, password)) {
          ad.deleteTopics(List.of(a.get(0))).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      }
      case "alter-config" -> {
        try (var ad = admin(user, password)) {
          ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, a.get(0));
          ad.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "1"), AlterConfigOp.OpType.SET))))
              .all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      }
      case "delete-records" -> {
        try (var ad = admin(user, password)) {
          ad.deleteRecords(Map.of(new TopicPartition(a.get(0), 0), RecordsToDelete.beforeOffset(-1L)))
              .all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      }
      case "commit" -> {
        try (var ad = admin(user, password)) {
          ad.alterConsumerGroupOffsets(a.get(0), Map.of(new TopicPartition(a.get(1), 0), new OffsetAndMetadata(0L)))
              .all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      }
      case "transaction" -> {
        try (var p = producer(user, password, a.get(0))) {
          p.initTransactions();
        }
      }
      case "describe-acls" -> {
        try (var ad = admin(user, password)) {
          ad.describeAcls(AclBindingFilter.ANY).values().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      }
      default -> throw new IllegalArgumentException("unknown op: " + op);
    }
  }

  private static String outcome(String id, String user, String password, String op, List<String> args) {
    try {
      run(user, password, op, args);
      return id + "\tOK";
    } catch (Throwable t) {
      Throwable root = t;
      while (root.getCause() != null && root.getCause() != root) root = root.getCause();
      String message = String.valueOf(root.getMessage()).replaceAll("\\s+", " ");
      return id + "\tFAIL\t" + root.getClass().getSimpleName() + "\t" + message;
    }
  }

  public static void main(String[] argv) throws Exception {
    List<String[]> probes = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isBlank()) continue;
      String[] w = line.split("\t", -1);
      if (w.length < 4) throw new IllegalArgumentException("a probe needs <id> <user> <password> <op>: " + line);
      probes.add(w);
    }
    ExecutorService pool = Executors.newFixedThreadPool(6);
    List<Future<String>> results = new ArrayList<>();
    for (String[] w : probes) {
      results.add(pool.submit(() -> outcome(w[0], w[1], w[2], w[3], List.of(w).subList(4, w.length))));
    }
    try (var out = new java.io.PrintWriter(argv[0], StandardCharsets.UTF_8)) {
      for (Future<String> f : results) out.println(f.get());
    }
    pool.shutdown();
  }
}
