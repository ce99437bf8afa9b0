// Creates, updates and deletes SCRAM-SHA-256 users through Kafka's Admin API (AlterUserScramCredentials), which
// kafkajs does not implement. Run as a single-file program on the broker's classpath:
//   java -cp 'infra/.cache/kafka-<v>/lib/*' infra/kafka/ScramUsers.java
// Reads from stdin, one command a line: "upsert <user> <password>", "delete <user>", or "list".
// Connection from env: GRONDSLAG_KAFKA_BROKERS, GRONDSLAG_KAFKA_ADMIN_USER, GRONDSLAG_KAFKA_ADMIN_PASSWORD.
// Prints one line a user for "list"; passwords are never printed.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public class ScramUsers {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, System.getenv("GRONDSLAG_KAFKA_BROKERS"));
    p.put("security.protocol", "SASL_PLAINTEXT");
    p.put("sasl.mechanism", "PLAIN");
    p.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
        + System.getenv("GRONDSLAG_KAFKA_ADMIN_USER") + "\" password=\"" + System.getenv("GRONDSLAG_KAFKA_ADMIN_PASSWORD") + "\";");
    List<UserScramCredentialAlteration> alterations = new ArrayList<>();
    boolean list = false;
    SecureRandom random = new SecureRandom();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] w = line.trim().split("\\s+");
      if (w.length == 0 || w[0].isEmpty()) continue;
      switch (w[0]) {
        case "upsert" -> {
          byte[] salt = new byte[16];
          random.nextBytes(salt);
          alterations.add(new UserScramCredentialUpsertion(w[1],
              new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), w[2].getBytes(StandardCharsets.UTF_8), salt));
        }
        case "delete" -> alterations.add(new UserScramCredentialDeletion(w[1], ScramMechanism.SCRAM_SHA_256));
        case "list" -> list = true;
        default -> throw new IllegalArgumentException("unknown command: " + w[0]);
      }
    }
    try (Admin admin = Admin.create(p)) {
      if (!alterations.isEmpty()) admin.alterUserScramCredentials(alterations).all().get();
      if (list) {
        for (var e : admin.describeUserScramCredentials().all().get().entrySet()) {
          System.out.println(e.getKey());
        }
      }
    }
  }
}
