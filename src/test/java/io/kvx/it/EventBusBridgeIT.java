package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The API for other languages: the documented Python client (standard library only) creates a pod
 * through the TCP event-bus bridge and watches it until it runs; frames without the token are refused.
 */
class EventBusBridgeIT {

  private static final int API_PORT = 17495;
  private static final int BUS_PORT = API_PORT + 1000;
  private static KvxProcess kvx;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-bus");
    KvxProcess.prepareBusybox(home);
    kvx = KvxProcess.start("eventbus", home, API_PORT, "up", "--cluster-port", "5851", "--secret", "it-bus",
        "--node-name", "bus-node", "--bridge", "kvxt5", "--pod-cidr", "10.89.5.0/24", "--roles",
        "sequencer,apiserver,scheduler,controller-manager,node"); // the controller manager publishes kube-root-ca.crt
    kvx.awaitReady(Duration.ofSeconds(60));
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  @Test
  void pythonClientCreatesAPodAndWatchesItRun() throws Exception {
    Path script = Path.of("clients/python/example_pod.py").toAbsolutePath();
    Process p = new ProcessBuilder("python3", script.toString(), "127.0.0.1", String.valueOf(BUS_PORT),
        kvx.home.resolve("admin.token").toString()).directory(script.getParent().toFile())
        .redirectErrorStream(true).start();
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the example finished");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("created py-"), out);
    assertTrue(out.contains("ADDED py-"), out);
    assertTrue(out.contains("MODIFIED py-") && out.contains(" Running"), out);
    assertTrue(out.contains("deleted py-"), out);
  }

  @Test
  void framesWithoutTheTokenAreRefused() throws Exception {
    try (Socket s = new Socket("127.0.0.1", BUS_PORT)) {
      s.setSoTimeout(10_000);
      String frame = "{\"type\":\"send\",\"address\":\"kvx.api\",\"replyAddress\":\"r1\",\"headers\":{\"authorization\":"
          + "\"Bearer wrong\"},\"body\":{\"verb\":\"list\",\"resource\":\"pods\"}}";
      byte[] data = frame.getBytes(StandardCharsets.UTF_8);
      OutputStream out = s.getOutputStream();
      out.write(ByteBuffer.allocate(4).putInt(data.length).array());
      out.write(data);
      out.flush();
      byte[] len = s.getInputStream().readNBytes(4);
      byte[] body = s.getInputStream().readNBytes(ByteBuffer.wrap(len).getInt());
      String reply = new String(body, StandardCharsets.UTF_8);
      assertTrue(reply.contains("\"type\":\"err\"") && reply.contains("blocked"), reply);
    }
  }

  @Test
  void badFramesAreAnsweredAndOversizedOnesCloseTheConnection() throws Exception {
    try (Socket s = new Socket("127.0.0.1", BUS_PORT)) {
      s.setSoTimeout(10_000);
      writeRaw(s, "not json".getBytes(StandardCharsets.UTF_8));
      assertTrue(read(s).getString("message").startsWith("invalid_json"));
      writeRaw(s, "{\"type\":\"send\",\"address\":\"kvx.api\",\"replyAddress\":\"r\",\"headers\":\"x\",\"body\":{}}"
          .getBytes(StandardCharsets.UTF_8));
      assertTrue(read(s).getString("message").startsWith("invalid_headers"));
      writeRaw(s, "{\"type\":\"publish\",\"address\":\"kvx.api\",\"body\":{}}".getBytes(StandardCharsets.UTF_8));
      assertTrue(read(s).getString("message").startsWith("unknown_type"));
      // The connection is still served.
      writeRaw(s, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
      assertEquals("pong", read(s).getString("type"));
      // A frame announcing 2 GiB is refused before its bytes are taken, and the connection closed.
      s.getOutputStream().write(ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array());
      JsonObject tooLarge = read(s);
      assertTrue(tooLarge.getString("message").startsWith("frame_too_large"), tooLarge.encode());
      assertEquals(-1, s.getInputStream().read(), "closed");
    }
  }

  @Test
  void aWatchEndsWithItsConnectionAndRbacEscalationIsRefused() throws Exception {
    String admin = Files.readString(kvx.home.resolve("admin.token")).trim();
    // A watch of config maps to a connection that then goes: a second connection registering the same address gets
    // none of the events that follow.
    try (Socket first = new Socket("127.0.0.1", BUS_PORT)) {
      first.setSoTimeout(10_000);
      writeRaw(first, register("kvx.watch.gone-1", admin));
      JsonObject watch = send(first, admin, "w1", new JsonObject().put("verb", "watch").put("resource", "configmaps")
          .put("namespace", "default").put("address", "kvx.watch.gone-1"));
      assertTrue(watch.getJsonObject("body").containsKey("resourceVersion"), watch.encode());
    }
    Thread.sleep(500);
    try (Socket second = new Socket("127.0.0.1", BUS_PORT)) {
      second.setSoTimeout(3_000);
      writeRaw(second, register("kvx.watch.gone-1", admin));
      JsonObject created = send(second, admin, "c1", new JsonObject().put("verb", "create").put("resource", "configmaps")
          .put("namespace", "default").put("body", new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
              .put("metadata", new JsonObject().put("name", "after-gone"))));
      assertEquals("after-gone", created.getJsonObject("body").getJsonObject("metadata").getString("name"));
      assertThrows(java.net.SocketTimeoutException.class, () -> read(second), "no event of the ended watch");
    }
    // A ServiceAccount that may create role bindings but holds nothing it could grant.
    try (Socket s = new Socket("127.0.0.1", BUS_PORT)) {
      s.setSoTimeout(10_000);
      ok(send(s, admin, "a1", create("", "serviceaccounts", new JsonObject().put("apiVersion", "v1")
          .put("kind", "ServiceAccount").put("metadata", new JsonObject().put("name", "binder")))));
      ok(send(s, admin, "a2", create("rbac.authorization.k8s.io", "roles", new JsonObject()
          .put("apiVersion", "rbac.authorization.k8s.io/v1").put("kind", "Role")
          .put("metadata", new JsonObject().put("name", "binder"))
          .put("rules", new io.vertx.core.json.JsonArray().add(new JsonObject()
              .put("apiGroups", new io.vertx.core.json.JsonArray().add("rbac.authorization.k8s.io"))
              .put("resources", new io.vertx.core.json.JsonArray().add("rolebindings"))
              .put("verbs", new io.vertx.core.json.JsonArray().add("create")))))));
      ok(send(s, admin, "a3", create("rbac.authorization.k8s.io", "rolebindings", binding("binder", "Role", "binder"))));
      JsonObject tokenRequest = send(s, admin, "a4", new JsonObject().put("verb", "create").put("resource",
          "serviceaccounts").put("subresource", "token").put("namespace", "default").put("name", "binder")
          .put("body", new JsonObject().put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenRequest")
              .put("spec", new JsonObject())));
      String token = ok(tokenRequest).getJsonObject("body").getJsonObject("status").getString("token");
      JsonObject escalate = send(s, token, "e1", create("rbac.authorization.k8s.io", "rolebindings",
          binding("grab-admin", "ClusterRole", "admin")));
      assertEquals(403, escalate.getInteger("failureCode"), escalate.encode());
      assertTrue(escalate.getString("message").contains("attempting to grant RBAC permissions not currently held"),
          escalate.encode());
    }
  }

  private static JsonObject create(String group, String resource, JsonObject body) {
    return new JsonObject().put("verb", "create").put("group", group).put("resource", resource)
        .put("namespace", "default").put("body", body);
  }

  private static JsonObject binding(String name, String kind, String role) {
    return new JsonObject().put("apiVersion", "rbac.authorization.k8s.io/v1").put("kind", "RoleBinding")
        .put("metadata", new JsonObject().put("name", name))
        .put("roleRef", new JsonObject().put("apiGroup", "rbac.authorization.k8s.io").put("kind", kind).put("name", role))
        .put("subjects", new io.vertx.core.json.JsonArray().add(new JsonObject().put("kind", "ServiceAccount")
            .put("name", "binder").put("namespace", "default")));
  }

  private static JsonObject ok(JsonObject reply) {
    assertEquals("message", reply.getString("type"), reply.encode());
    return reply;
  }

  private static byte[] register(String address, String token) {
    return new JsonObject().put("type", "register").put("address", address)
        .put("headers", new JsonObject().put("authorization", "Bearer " + token)).encode()
        .getBytes(StandardCharsets.UTF_8);
  }

  private static JsonObject send(Socket s, String token, String reply, JsonObject body) throws Exception {
    writeRaw(s, new JsonObject().put("type", "send").put("address", "kvx.api").put("replyAddress", reply)
        .put("headers", new JsonObject().put("authorization", "Bearer " + token)).put("body", body).encode()
        .getBytes(StandardCharsets.UTF_8));
    while (true) {
      JsonObject frame = read(s);
      if (reply.equals(frame.getString("address")) || "err".equals(frame.getString("type"))) return frame;
    }
  }

  private static void writeRaw(Socket s, byte[] data) throws Exception {
    OutputStream out = s.getOutputStream();
    out.write(ByteBuffer.allocate(4).putInt(data.length).array());
    out.write(data);
    out.flush();
  }

  private static JsonObject read(Socket s) throws Exception {
    byte[] len = s.getInputStream().readNBytes(4);
    return new JsonObject(new String(s.getInputStream().readNBytes(ByteBuffer.wrap(len).getInt()),
        StandardCharsets.UTF_8));
  }
}
