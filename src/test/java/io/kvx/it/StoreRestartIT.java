package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DESIGN §2.5 for a cluster on the default SQLite files: the leader A is SIGKILLed, B takes over and
 * takes more writes, then B and C crash together. C, which never led, starts again alone and has
 * every object at its resourceVersion, because followers keep their durable log in step with the
 * change log; revisions continue upward.
 */
class StoreRestartIT {

  private static final String CMS = "/api/v1/namespaces/default/configmaps";
  private final List<KvxProcess> processes = new ArrayList<>();

  @AfterEach
  void down() throws Exception {
    for (KvxProcess p : processes.reversed()) p.close();
  }

  @Test
  void aFollowerThatNeverLedRestartsAloneWithEveryObject() throws Exception {
    Path homeC = Files.createTempDirectory("kvx-it-restart-c");
    KvxProcess a = start("restart-a", Files.createTempDirectory("kvx-it-restart-a"), 17812, 6001, null);
    a.awaitReady(Duration.ofSeconds(60));
    // B joins before C, so B is older and takes over from A; C never leads.
    KvxProcess b = start("restart-b", Files.createTempDirectory("kvx-it-restart-b"), 17813, 6002, "127.0.0.1:6001");
    b.awaitReady(Duration.ofSeconds(60));
    KvxProcess c = start("restart-c", homeC, 17814, 6003, "127.0.0.1:6001");
    c.awaitReady(Duration.ofSeconds(60));
    ApiHttp viaA = new ApiHttp(a);
    for (int i = 0; i < 100; i++) create(viaA, "before" + i);
    a.kill();
    ApiHttp viaB = new ApiHttp(b);
    for (int i = 0; i < 100; i++) create(viaB, "after" + i);
    assertEquals(200, viaB.send("DELETE", CMS + "/before7", null).code());
    Map<String, Long> expected = versions(viaB);
    assertEquals(199, expected.size());
    long max = expected.values().stream().mapToLong(Long::longValue).max().orElseThrow();
    // Followers are a moment behind the leader; then the whole cluster crashes.
    Thread.sleep(2_000);
    b.process.destroyForcibly();
    c.process.destroyForcibly();
    b.process.waitFor();
    c.process.waitFor();
    assertTrue(Files.readString(b.log).contains("sequencer: leading"), "B took over from A");
    assertTrue(!Files.readString(c.log).contains("sequencer: leading"), "C never led");
    KvxProcess again = start("restart-c2", homeC, 17814, 6003, null);
    again.awaitReady(Duration.ofSeconds(60));
    ApiHttp viaC = new ApiHttp(again);
    assertEquals(expected, versions(viaC), "C, which never led, recovered every object at its resourceVersion");
    long next = create(viaC, "later");
    assertTrue(next > max, "revisions continue upward: " + next + " > " + max);
  }

  private KvxProcess start(String name, Path home, int apiPort, int clusterPort, String join) throws Exception {
    List<String> args = new ArrayList<>(List.of("server", "--roles", "sequencer,apiserver", "--cluster-port",
        String.valueOf(clusterPort), "--secret", "it-store-restart"));
    if (join != null) args.addAll(List.of("--join", join));
    KvxProcess p = KvxProcess.start(name, home, apiPort, args.toArray(String[]::new));
    processes.add(p);
    return p;
  }

  private static long create(ApiHttp api, String name) throws Exception {
    ApiHttp.Reply r = api.send("POST", CMS, new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
        .put("metadata", new JsonObject().put("name", name)).put("data", new JsonObject().put("v", name)));
    assertEquals(201, r.code(), r.body().encode());
    return Long.parseLong(r.body().getJsonObject("metadata").getString("resourceVersion"));
  }

  private static Map<String, Long> versions(ApiHttp api) throws Exception {
    Map<String, Long> out = new TreeMap<>();
    ApiHttp.Reply r = api.get(CMS);
    assertEquals(200, r.code(), r.body().encode());
    r.body().getJsonArray("items").forEach(o -> {
      JsonObject meta = ((JsonObject) o).getJsonObject("metadata");
      if (!meta.getString("name").startsWith("kube-")) {
        out.put(meta.getString("name"), Long.parseLong(meta.getString("resourceVersion")));
      }
    });
    return out;
  }
}
