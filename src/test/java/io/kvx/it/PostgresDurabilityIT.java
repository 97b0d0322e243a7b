package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DESIGN §2.5 with PostgreSQL as the durable log: a private PostgreSQL on loopback (Debian's
 * postgresql, installed when missing and root), kvx with {@code --datastore postgres://...}; every
 * acknowledged write is committed before the reply, so after a SIGKILL and a restart in a fresh home
 * (nothing local survives) every object is back with its resourceVersion and revisions continue up.
 */
class PostgresDurabilityIT {

  private static final int PG_PORT = 5433;
  private static Path pgData;
  private static Path pgBin;

  @BeforeAll
  static void postgres() throws Exception {
    pgBin = findPostgres();
    if (pgBin == null && isRoot()) {
      run(List.of("apt-get", "install", "-y", "-q", "postgresql"), 600);
      pgBin = findPostgres();
    }
    Assumptions.assumeTrue(pgBin != null, "SKIPPED: no PostgreSQL server binaries (apt-get install postgresql as root)");
    Assumptions.assumeTrue(isRoot(), "SKIPPED: starting a private PostgreSQL here needs root (to run as user postgres)");
    pgData = Files.createTempDirectory("kvx-it-pg");
    run(List.of("chown", "postgres:postgres", pgData.toString()), 30);
    asPostgres(pgBin.resolve("initdb") + " -D " + pgData + "/data -U kvx --auth=trust -E UTF8 >/dev/null", 120);
    asPostgres(pgBin.resolve("pg_ctl") + " -D " + pgData + "/data -l " + pgData + "/pg.log -w -t 60 -o '-p "
        + PG_PORT + " -k " + pgData + " -c listen_addresses=127.0.0.1 -c fsync=on' start", 90);
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (pgData != null && pgBin != null) {
      asPostgres(pgBin.resolve("pg_ctl") + " -D " + pgData + "/data -m immediate stop", 60);
    }
  }

  @Test
  void acknowledgedObjectsSurviveSigkillThroughPostgres() throws Exception {
    String datastore = "postgres://kvx:unused@127.0.0.1:" + PG_PORT + "/postgres";
    String[] args = {"server", "--roles", "sequencer,apiserver", "--cluster-port", "5807", "--secret",
        "it-store-pg", "--datastore", datastore};
    Map<String, Long> before;
    long max;
    try (KvxProcess first = KvxProcess.start("pg-1", Files.createTempDirectory("kvx-it-pg1"), 17815, args)) {
      first.awaitReady(Duration.ofSeconds(60));
      assertTrue(Files.readString(first.log).contains("durable log postgres 127.0.0.1:" + PG_PORT), "uses PostgreSQL");
      ApiHttp api = new ApiHttp(first);
      for (int i = 0; i < 30; i++) create(api, "cm" + i);
      ApiHttp.Reply upd = api.send("PUT", "/api/v1/namespaces/default/configmaps/cm3", new JsonObject()
          .put("apiVersion", "v1").put("kind", "ConfigMap").put("data", new JsonObject().put("value", "42"))
          .put("metadata", new JsonObject().put("name", "cm3").put("resourceVersion", String.valueOf(version(api, "cm3")))));
      assertEquals(200, upd.code(), upd.body().encode());
      assertEquals(200, api.send("DELETE", "/api/v1/namespaces/default/configmaps/cm4", null).code());
      before = versions(api);
      assertEquals(29, before.size());
      max = before.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      first.kill();
    }
    // A fresh home: the only place the objects can come back from is PostgreSQL.
    try (KvxProcess second = KvxProcess.start("pg-2", Files.createTempDirectory("kvx-it-pg2"), 17815, args)) {
      second.awaitReady(Duration.ofSeconds(60));
      ApiHttp api = new ApiHttp(second);
      assertEquals(before, versions(api), "same objects, same resourceVersions");
      assertEquals("42", api.get("/api/v1/namespaces/default/configmaps/cm3").body().getJsonObject("data")
          .getString("value"));
      long next = create(api, "after");
      assertTrue(next > max, "revisions continue upward: " + next + " > " + max);
    }
  }

  private static long create(ApiHttp api, String name) throws Exception {
    ApiHttp.Reply r = api.send("POST", "/api/v1/namespaces/default/configmaps", new JsonObject()
        .put("apiVersion", "v1").put("kind", "ConfigMap").put("metadata", new JsonObject().put("name", name))
        .put("data", new JsonObject().put("value", name)));
    assertEquals(201, r.code(), r.body().encode());
    return Long.parseLong(r.body().getJsonObject("metadata").getString("resourceVersion"));
  }

  private static long version(ApiHttp api, String name) throws Exception {
    return Long.parseLong(api.get("/api/v1/namespaces/default/configmaps/" + name).body().getJsonObject("metadata")
        .getString("resourceVersion"));
  }

  private static Map<String, Long> versions(ApiHttp api) throws Exception {
    Map<String, Long> out = new TreeMap<>();
    api.get("/api/v1/namespaces/default/configmaps").body().getJsonArray("items").forEach(o -> {
      JsonObject meta = ((JsonObject) o).getJsonObject("metadata");
      if (meta.getString("name").startsWith("cm")) {
        out.put(meta.getString("name"), Long.parseLong(meta.getString("resourceVersion")));
      }
    });
    return out;
  }

  private static Path findPostgres() throws IOException {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) return null;
    try (var versions = Files.list(root)) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
          .max(Path::compareTo).orElse(null);
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static void asPostgres(String shell, int seconds) throws Exception {
    run(List.of("runuser", "-u", "postgres", "--", "sh", "-c", "cd / && " + shell), seconds);
  }

  private static void run(List<String> cmd, int seconds) throws Exception {
    Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(seconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
  }
}
