package io.kvx.it;

import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/**
 * The kvx that the client-library ITs talk to: every role but the proxy in one JVM with a real node (runc and
 * CNI when root), started from target/kvx.jar. With {@code -Dkvx.it.kubeconfig=FILE} the tests use an already
 * running kvx instead (handy while developing: {@code ops/kvx up --api-port 17543 ...}).
 */
final class ClientsCluster implements AutoCloseable {

  static final int API_PORT = 17543;

  final Path kubeconfig;
  final String server;
  final String caPem;
  final String token;
  private final KvxProcess kvx;

  private ClientsCluster(Path kubeconfig, KvxProcess kvx) throws Exception {
    this.kubeconfig = kubeconfig;
    this.kvx = kvx;
    JsonNode config = new YAMLMapper().readTree(Files.readString(kubeconfig));
    JsonNode cluster = config.path("clusters").get(0).path("cluster");
    this.server = cluster.path("server").asString();
    this.caPem = new String(Base64.getDecoder().decode(cluster.path("certificate-authority-data").asString()),
        StandardCharsets.UTF_8);
    this.token = config.path("users").get(0).path("user").path("token").asString();
  }

  /** Starts kvx (or attaches to -Dkvx.it.kubeconfig) with a node on bridge {@code kvxc0}. */
  static ClientsCluster start(String name) throws Exception {
    String existing = System.getProperty("kvx.it.kubeconfig", "");
    if (!existing.isEmpty()) return new ClientsCluster(Path.of(existing), null);
    Path home = Files.createTempDirectory("kvx-it-" + name);
    KvxProcess.prepareBusybox(home);
    KvxProcess kvx = KvxProcess.start(name, home, API_PORT, "up", "--cluster-port", "5731", "--secret", "it-" + name,
        "--node-name", name + "-node", "--bridge", "kvxc0", "--pod-cidr", "10.72.0.0/24",
        "--history-count", "500", "--roles", "sequencer,apiserver,scheduler,controller-manager,node");
    try {
      kvx.awaitReady(Duration.ofSeconds(90));
      return new ClientsCluster(kvx.kubeconfig(), kvx);
    } catch (Exception e) {
      kvx.close();
      throw e;
    }
  }

  /** A file holding the CA, for libraries that want a path. */
  Path caFile() throws Exception {
    Path f = Files.createTempFile("kvx-ca", ".crt");
    Files.writeString(f, caPem);
    f.toFile().deleteOnExit();
    return f;
  }

  @Override
  public void close() throws Exception {
    if (kvx != null) kvx.close();
  }
}
