package io.kvx.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kubectl's OpenAPI-driven commands against kvx (sequencer and API server in one JVM): apply and
 * create -f with the default strict validation (done by the server), the server's error for unknown
 * fields, client-side apply twice (merge keys from OpenAPI v3), server-side apply, and explain.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenApiIT {

  private static final String DEPLOYMENT = """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 2
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: busybox
              ports:
              - containerPort: 8080
              - containerPort: 9090
              env:
              - name: A
                value: "1"
              - name: B
                value: "2"
      """;

  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-openapi");
    dir = Files.createTempDirectory("kvx-it-openapi-yaml");
    kvx = KvxProcess.start("openapi", home, 17901, "up", "--cluster-port", "5901", "--secret", "it-openapi",
        "--roles", "sequencer,apiserver");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
  }

  private static String file(String name, String yaml) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, yaml);
    return p.toString();
  }

  @Test
  @Order(1)
  void applyWithDefaultValidationCreatesConfigMapAndDeployment() throws Exception {
    String cm = file("cm.yaml", """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          a: "1"
        """);
    String out = kubectl.ok("apply", "-f", cm, "-v=6");
    assertTrue(out.contains("fieldValidation=Strict"), "kubectl leaves validation to the server: " + out);
    assertTrue(out.contains("configmap/settings created"), out);
    assertTrue(kubectl.ok("apply", "-f", file("deploy.yaml", DEPLOYMENT)).contains("deployment.apps/web created"));
    assertEquals("2", kubectl.ok("get", "deployment", "web", "-o", "jsonpath={.spec.replicas}").trim());
    String created = kubectl.ok("create", "-f", file("cm2.yaml", """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: other
        """));
    assertTrue(created.contains("configmap/other created"), created);
  }

  @Test
  @Order(2)
  void unknownFieldsAreRejectedByTheServer() throws Exception {
    String bad = file("bad.yaml", DEPLOYMENT.replace("name: web\nspec:", "name: bad\nspec:")
        .replace("  replicas: 2", "  replicas: 2\n  foo: bar"));
    Kubectl.Result r = kubectl.run("apply", "-f", bad);
    assertNotEquals(0, r.code());
    assertTrue(r.out().contains("strict decoding error: unknown field \"spec.foo\""), r.out());
    Kubectl.Result warned = kubectl.run("create", "-f", bad, "--validate=warn");
    assertEquals(0, warned.code(), warned.out());
    assertTrue(warned.out().contains("Warning: unknown field \"spec.foo\""), warned.out());
    assertEquals("", kubectl.ok("get", "deployment", "bad", "-o", "jsonpath={.spec.foo}").trim());
  }

  @Test
  @Order(3)
  void clientSideApplyTwiceMergesByKey() throws Exception {
    String changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3").replace("image: busybox", "image: busybox:2")
        .replace("        - name: B\n          value: \"2\"\n", "")
        .replace("        - containerPort: 9090\n", "");
    assertTrue(!changed.contains("name: B") && !changed.contains("9090"), changed);
    String out = kubectl.ok("apply", "-f", file("deploy2.yaml", changed));
    assertTrue(out.contains("deployment.apps/web configured"), out);
    assertTrue(!out.contains("warning"), "the patch was computed from OpenAPI v3: " + out);
    String spec = kubectl.ok("get", "deployment", "web", "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env}"
            + " {.spec.template.spec.containers[0].ports}");
    assertEquals("3 busybox:2 [{\"name\":\"A\",\"value\":\"1\"}] [{\"containerPort\":8080,\"protocol\":\"TCP\"}]", spec.trim());
  }

  @Test
  @Order(4)
  void serverSideApplyCreatesAndUpdates() throws Exception {
    String cm = file("ssa.yaml", """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: applied
        data:
          k: v1
        """);
    assertTrue(kubectl.ok("apply", "--server-side", "-f", cm).contains("configmap/applied serverside-applied"));
    Files.writeString(Path.of(cm), Files.readString(Path.of(cm)).replace("k: v1", "k: v2"));
    kubectl.ok("apply", "--server-side", "-f", cm);
    assertEquals("v2", kubectl.ok("get", "configmap", "applied", "-o", "jsonpath={.data.k}").trim());
  }

  @Test
  @Order(5)
  void explainPrintsFields() throws Exception {
    String out = kubectl.ok("explain", "pods.spec.containers");
    assertTrue(out.contains("KIND:       Pod"), out);
    assertTrue(out.contains("FIELD: containers <[]Container>"), out);
    assertTrue(out.contains("image\t<string>") && out.contains("name\t<string> -required-"), out);
    String deploy = kubectl.ok("explain", "deployment.spec");
    assertTrue(deploy.contains("GROUP:      apps") && deploy.contains("template\t<PodTemplateSpec> -required-"),
        deploy);
    // The review kinds store nothing but are described, as kube-apiserver does.
    String review = kubectl.ok("explain", "selfsubjectaccessreview.spec");
    assertTrue(review.contains("GROUP:      authorization.k8s.io") && review.contains("resourceAttributes\t<"), review);
    String token = kubectl.ok("explain", "tokenreview.spec");
    assertTrue(token.contains("KIND:       TokenReview") && token.contains("token\t<string>"), token);
  }

  @Test
  @Order(6)
  void healthEndpointsListTheirChecks() throws Exception {
    assertEquals("ok", kubectl.ok("get", "--raw", "/livez").trim());
    String verbose = kubectl.ok("get", "--raw", "/readyz?verbose");
    assertTrue(verbose.contains("[+]ping ok") && verbose.contains("[+]etcd ok")
        && verbose.contains("readyz check passed"), verbose);
    String excluded = kubectl.ok("get", "--raw", "/livez?verbose&exclude=etcd");
    assertTrue(excluded.contains("[+]etcd excluded: ok") && excluded.contains("livez check passed"), excluded);
    assertEquals("ok", kubectl.ok("get", "--raw", "/healthz/ping").trim());
    Kubectl.Result missing = kubectl.run("get", "--raw", "/readyz/no-such-check");
    assertTrue(missing.code() != 0 && missing.out().contains("NotFound"), missing.out());
  }

  @Test
  @Order(6)
  void listFilesAreValidatedByKubectlFromTheV2Protobuf() throws Exception {
    String list = file("list.yaml", """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: l1}
        """);
    assertTrue(kubectl.ok("apply", "-f", list).contains("configmap/l1 created"));
    Kubectl.Result bad = kubectl.run("apply", "-f", file("badlist.yaml", Files.readString(Path.of(list))
        .replace("metadata: {name: l1}", "metadata: {name: l2}\n  datax: {a: b}")));
    assertNotEquals(0, bad.code());
    assertTrue(bad.out().contains("unknown field \"datax\""), bad.out());
  }

  @Test
  @Order(7)
  void documentsAreCachedByHashAndV2ComesAsJsonOrProtobuf() throws Exception {
    HttpClient http = KvxProcess.insecureClient();
    String token = Files.readAllLines(kvx.kubeconfig()).stream().filter(l -> l.trim().startsWith("token:"))
        .findFirst().orElseThrow().trim().substring("token:".length()).trim();
    String base = "https://127.0.0.1:" + kvx.apiPort;
    java.util.function.Function<String, HttpRequest.Builder> get = path -> HttpRequest.newBuilder(URI.create(base + path))
        .header("Authorization", "Bearer " + token);
    HttpResponse<String> root = http.send(get.apply("/openapi/v3").build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, root.statusCode());
    String url = new io.vertx.core.json.JsonObject(root.body()).getJsonObject("paths").getJsonObject("apis/apps/v1")
        .getString("serverRelativeURL");
    HttpResponse<String> apps = http.send(get.apply(url).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, apps.statusCode());
    assertEquals("public, immutable", apps.headers().firstValue("Cache-Control").orElse(""));
    String etag = apps.headers().firstValue("ETag").orElseThrow();
    assertEquals(304, http.send(get.apply(url).header("If-None-Match", etag).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
    assertEquals(301, http.send(get.apply("/openapi/v3/apis/apps/v1?hash=0").build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
    HttpResponse<byte[]> proto = http.send(get.apply("/openapi/v2")
        .header("Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf").build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, proto.statusCode());
    assertEquals("application/octet-stream", proto.headers().firstValue("Content-Type").orElse(""));
    HttpResponse<String> v2 = http.send(get.apply("/openapi/v2").header("Accept", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, v2.statusCode());
    assertTrue(v2.body().startsWith("{\"swagger\":\"2.0\""), v2.body().substring(0, 40));
    assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(base + "/openapi/v3")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  @Order(50)
  void authCanIAndWhoAmI() throws Exception {
    // No RBAC yet: the admin (and everyone authenticated) may do everything, and the review APIs say so.
    assertEquals("yes", kubectl.ok("auth", "can-i", "create", "pods").trim());
    // RBAC: an account nobody bound may not (can-i exits 1 for no).
    assertEquals("no", kubectl.run("auth", "can-i", "delete", "secrets", "--as=system:serviceaccount:default:x").out()
        .trim());
    String who = kubectl.ok("auth", "whoami");
    assertTrue(who.contains("kvx-admin") && who.contains("system:authenticated"), who);
    kubectl.ok("create", "serviceaccount", "reviewer");
    String token = kubectl.ok("create", "token", "reviewer").trim();
    String review = kubectl.ok("create", "-o", "jsonpath={.status.authenticated} {.status.user.username}", "-f",
        file("review", """
            apiVersion: authentication.k8s.io/v1
            kind: TokenReview
            spec: {token: %s}
            """.formatted(token)));
    assertEquals("true system:serviceaccount:default:reviewer", review.trim());
    String bad = kubectl.ok("create", "-o", "jsonpath={.status.authenticated}", "-f", file("bad", """
        apiVersion: authentication.k8s.io/v1
        kind: TokenReview
        spec: {token: not-a-token}
        """));
    assertEquals("false", bad.trim());
  }
}
