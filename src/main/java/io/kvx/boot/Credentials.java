package io.kvx.boot;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The credentials every API server of a cluster shares (CA and admin token), agreed through the
 * cluster on first start, and the files written under $KVX_HOME: tls/, admin.token, kubeconfig.
 * Blocking; runs before Vert.x starts.
 */
public final class Credentials {

  private static final String MAP = "kvx.bootstrap";

  private Credentials() {
  }

  public static void prepare(HazelcastInstance hz, KvxOptions o) throws Exception {
    Path tls = o.home.resolve("tls");
    Files.createDirectories(tls);
    IMap<String, String> shared = hz.getMap(MAP);
    Path caCrt = tls.resolve("ca.crt");
    Path caKey = tls.resolve("ca.key");
    Path tokenFile = o.home.resolve("admin.token");
    JsonObject local = null;
    if (Files.exists(caCrt) && Files.exists(caKey) && Files.exists(tokenFile)) {
      local = new JsonObject().put("caCrt", Files.readString(caCrt)).put("caKey", Files.readString(caKey))
          .put("token", Files.readString(tokenFile).trim());
    } else {
      Pki.Pem ca = Pki.newCa("kvx-ca");
      byte[] t = new byte[24];
      new SecureRandom().nextBytes(t);
      local = new JsonObject().put("caCrt", ca.certificate()).put("caKey", ca.privateKey())
          .put("token", HexFormat.of().formatHex(t));
    }
    // The first server's material wins; later ones adopt it so that one kubeconfig works everywhere.
    String agreed = shared.putIfAbsent("credentials", local.encode());
    JsonObject creds = agreed == null ? local : new JsonObject(agreed);
    writePrivate(caKey, creds.getString("caKey"));
    Files.writeString(caCrt, creds.getString("caCrt"));
    writePrivate(tokenFile, creds.getString("token") + "\n");
    Pki.Pem server = Pki.newServerCert(new Pki.Pem(creds.getString("caCrt"), creds.getString("caKey")),
        Pki.defaultHosts(o.bindHost));
    Files.writeString(tls.resolve("server.crt"), server.certificate());
    writePrivate(tls.resolve("server.key"), server.privateKey());
    writePrivate(o.home.resolve("kubeconfig"), kubeconfig(o, creds));
    serviceAccountKey(shared, tls);
  }

  /** The ServiceAccount token signing key, shared like the CA so any API server verifies any token. */
  private static void serviceAccountKey(IMap<String, String> shared, Path tls) throws Exception {
    Path pub = tls.resolve("sa.pub");
    Path key = tls.resolve("sa.key");
    JsonObject local;
    if (Files.exists(pub) && Files.exists(key)) {
      local = new JsonObject().put("pub", Files.readString(pub)).put("key", Files.readString(key));
    } else {
      Pki.Pem k = Pki.newSigningKey();
      local = new JsonObject().put("pub", k.certificate()).put("key", k.privateKey());
    }
    String agreed = shared.putIfAbsent("serviceAccountKey", local.encode());
    JsonObject sa = agreed == null ? local : new JsonObject(agreed);
    Files.writeString(pub, sa.getString("pub"));
    writePrivate(key, sa.getString("key"));
  }

  public static String apiUrl(KvxOptions o) {
    String host = o.apiHost.equals("0.0.0.0") ? "127.0.0.1" : o.apiHost;
    return (o.tls ? "https" : "http") + "://" + host + ":" + o.apiPort;
  }

  private static String kubeconfig(KvxOptions o, JsonObject creds) {
    String ca = Base64.getEncoder().encodeToString(creds.getString("caCrt").getBytes(StandardCharsets.UTF_8));
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: kvx
          cluster:
            server: %s
            certificate-authority-data: %s
        users:
        - name: kvx-admin
          user:
            token: %s
        contexts:
        - name: kvx
          context:
            cluster: kvx
            user: kvx-admin
            namespace: default
        current-context: kvx
        preferences: {}
        """.formatted(apiUrl(o), ca, creds.getString("token"));
  }

  private static void writePrivate(Path file, String content) throws IOException {
    Files.writeString(file, content);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system
    }
  }
}
