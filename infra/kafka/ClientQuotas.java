// Reads and sets per-user client quotas (producer_byte_rate, consumer_byte_rate, …) through Kafka's Admin API
// (DescribeClientQuotas / AlterClientQuotas), which kafkajs does not implement. Run on the broker's classpath like
// ScramUsers.java. Reads from stdin, one command a line:
//   "describe"                      prints "<user> <key> <value>" for every quota set on a plain user entity
//   "set <user> <key> <value>"      sets a quota (bytes per second, per broker)
//   "remove <user> <key>"           removes one
// Every set and remove is sent in one AlterClientQuotas call, before "describe" answers.
// Connection from env: GRONDSLAG_KAFKA_BROKERS, GRONDSLAG_KAFKA_ADMIN_USER, GRONDSLAG_KAFKA_ADMIN_PASSWORD.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;

public class ClientQuotas {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, System.getenv("GRONDSLAG_KAFKA_BROKERS"));
    p.put("security.protocol", "SASL_PLAINTEXT");
    p.put("sasl.mechanism", "PLAIN");
    p.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
        + System.getenv("GRONDSLAG_KAFKA_ADMIN_USER") + "\" password=\"" + System.getenv("GRONDSLAG_KAFKA_ADMIN_PASSWORD") + "\";");
    Map<String, List<ClientQuotaAlteration.Op>> ops = new LinkedHashMap<>();
    boolean describe = false;
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] w = line.trim().split("\\s+");
      if (w.length == 0 || w[0].isEmpty()) continue;
      switch (w[0]) {
        case "set" -> ops.computeIfAbsent(w[1], k -> new ArrayList<>())
            .add(new ClientQuotaAlteration.Op(w[2], Double.parseDouble(w[3])));
        case "remove" -> ops.computeIfAbsent(w[1], k -> new ArrayList<>()).add(new ClientQuotaAlteration.Op(w[2], null));
        case "describe" -> describe = true;
        default -> throw new IllegalArgumentException("unknown command: " + w[0]);
      }
    }
    try (Admin admin = Admin.create(p)) {
      if (!ops.isEmpty()) {
        List<ClientQuotaAlteration> alterations = new ArrayList<>();
        for (var e : ops.entrySet()) {
          alterations.add(new ClientQuotaAlteration(
              new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, e.getKey())), e.getValue()));
        }
        admin.alterClientQuotas(alterations).all().get();
      }
      if (describe) {
        // containsOnly: user entities alone, not user+client-id pairs (those are no one's here but an operator's).
        var filter = ClientQuotaFilter.containsOnly(List.of(ClientQuotaFilterComponent.ofEntityType(ClientQuotaEntity.USER)));
        for (var e : admin.describeClientQuotas(filter).entities().get().entrySet()) {
          String user = e.getKey().entries().get(ClientQuotaEntity.USER);
          if (user == null) continue; // the <default> user entity: not provisioning's
          for (var q : e.getValue().entrySet()) {
            System.out.println(user + " " + q.getKey() + " " + (long) q.getValue().doubleValue());
          }
        }
      }
    }
  }
}
