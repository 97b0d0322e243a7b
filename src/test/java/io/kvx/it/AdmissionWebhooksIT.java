package io.kvx.it;

import io.kvx.boot.Pki;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admission webhooks as a chart's operator registers them, through kubectl against `kvx up`: a real HTTPS webhook
 * server in this JVM (its certificate from its own CA, given to kvx as the caBundle) that denies, patches and warns.
 * Validating and mutating webhooks on create, update and delete; namespace and object selectors and match
 * conditions; failurePolicy Fail and Ignore against a webhook nobody answers and one that is too slow; a webhook
 * reached through a Service and its Endpoints; invalid configurations refused with the fields named.
 * Own ports 18420/5420, the webhook server 18421.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdmissionWebhooksIT {

  private static final int PORT = 18420;
  private static final int HOOK_PORT = 18421;
  private static KvxProcess kvx;
  private static Kubectl k;
  private static Path dir;
  private static Vertx vertx;
  private static HttpServer server;
  private static String caBundle;
  private static final List<JsonObject> reviews = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-webhooks");
    dir = Files.createTempDirectory("kvx-it-webhooks-files");
    Pki.Pem ca = Pki.newCa("webhook-test-ca");
    Pki.Pem cert = Pki.newServerCert(ca, List.of("127.0.0.1", "hook.hooks.svc"));
    caBundle = Base64.getEncoder().encodeToString(ca.certificate().getBytes(StandardCharsets.UTF_8));
    vertx = Vertx.vertx();
    server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
            .setCertValue(Buffer.buffer(cert.certificate())).setKeyValue(Buffer.buffer(cert.privateKey()))))
        .requestHandler(req -> req.body().onSuccess(body -> {
          JsonObject review = body.toJsonObject();
          reviews.add(review.put("path", req.path()).put("query", String.valueOf(req.query())));
          JsonObject response = answer(req.path(), review.getJsonObject("request"));
          Runnable reply = () -> req.response().putHeader("content-type", "application/json")
              .end(new JsonObject().put("apiVersion", review.getString("apiVersion")).put("kind", "AdmissionReview")
                  .put("response", response).encode());
          if (req.path().equals("/slow")) vertx.setTimer(3000, t -> reply.run());
          else reply.run();
        }))
        .listen(HOOK_PORT, "127.0.0.1").await();
    kvx = KvxProcess.start("webhooks", home, PORT, "up", "--cluster-port", "5420", "--secret", "it-webhooks",
        "--roles", "sequencer,apiserver,controller-manager");
    kvx.awaitReady(Duration.ofSeconds(60));
    k = new Kubectl(kvx.kubeconfig());
    k.ok("create", "namespace", "guarded");
    k.ok("label", "namespace", "guarded", "webhooks=on");
    k.ok("create", "namespace", "open");
  }

  @AfterAll
  static void down() throws Exception {
    if (kvx != null) kvx.close();
    if (vertx != null) vertx.close().await();
  }

  /** The test webhook: /validate denies deny=yes objects and deletes of protected=yes ones; /mutate labels. */
  private static JsonObject answer(String path, JsonObject request) {
    JsonObject out = new JsonObject().put("uid", request.getString("uid")).put("allowed", true);
    JsonObject object = request.getJsonObject("object");
    JsonObject old = request.getJsonObject("oldObject");
    switch (path) {
      case "/validate" -> {
        if (object != null && "yes".equals(labels(object).getString("deny"))) {
          out.put("allowed", false).put("status", new JsonObject().put("code", 403).put("reason", "Forbidden")
              .put("message", "objects labelled deny=yes are not welcome"));
        } else if (request.getString("operation").equals("DELETE") && "yes".equals(labels(old).getString("protected"))) {
          out.put("allowed", false).put("status", new JsonObject().put("message", "protected objects stay"));
        } else {
          out.put("warnings", new JsonArray().add("checked by the test webhook"));
        }
      }
      case "/mutate" -> {
        JsonArray patch = new JsonArray();
        if (labels(object).isEmpty()) patch.add(new JsonObject().put("op", "add").put("path", "/metadata/labels")
            .put("value", new JsonObject()));
        patch.add(new JsonObject().put("op", "add").put("path", "/metadata/labels/mutated").put("value",
            request.getString("operation").toLowerCase()));
        out.put("patchType", "JSONPatch").put("patch", Base64.getEncoder().encodeToString(
            patch.encode().getBytes(StandardCharsets.UTF_8)));
      }
      case "/inject" -> {
        // A sidecar injector's patch: a container appended, an annotation with a '/' in its key.
        JsonArray patch = new JsonArray();
        if (object.getJsonObject("metadata").getJsonObject("annotations") == null) {
          patch.add(new JsonObject().put("op", "add").put("path", "/metadata/annotations").put("value", new JsonObject()));
        }
        patch.add(new JsonObject().put("op", "add").put("path", "/metadata/annotations/kvx.test~1injected")
            .put("value", "true"));
        patch.add(new JsonObject().put("op", "add").put("path", "/spec/containers/-").put("value", new JsonObject()
            .put("name", "sidecar").put("image", "busybox").put("command", new JsonArray().add("sleep").add("3600"))));
        out.put("patchType", "JSONPatch").put("patch", Base64.getEncoder().encodeToString(
            patch.encode().getBytes(StandardCharsets.UTF_8)));
      }
      case "/wrong-uid" -> out.put("uid", "not-the-request");
      case "/deny-all" -> out.put("allowed", false).put("warnings", new JsonArray().add("warned on deny"))
          .put("status", new JsonObject().put("code", 418).put("message", "no " + request.getString("subResource", "")
              + " " + request.getJsonObject("kind").getString("kind") + " here"));
      case "/move" -> out.put("patchType", "JSONPatch").put("patch", Base64.getEncoder().encodeToString(
          "[{\"op\":\"replace\",\"path\":\"/metadata/namespace\",\"value\":\"guarded\"}]"
              .getBytes(StandardCharsets.UTF_8)));
      default -> { }
    }
    return out;
  }

  private static JsonObject labels(JsonObject o) {
    return o == null ? new JsonObject() : o.getJsonObject("metadata", new JsonObject()).getJsonObject("labels",
        new JsonObject());
  }

  private static Path file(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  /** A webhook configuration of one webhook on configmaps, at a URL of the test server. */
  private static String config(String kind, String name, String path, String extra) {
    return "apiVersion: admissionregistration.k8s.io/v1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n"
        + "webhooks:\n- name: " + name + ".kvx.test\n  admissionReviewVersions: [v1]\n  sideEffects: None\n"
        + "  clientConfig:\n    url: https://127.0.0.1:" + HOOK_PORT + path + "\n    caBundle: " + caBundle + "\n"
        + "  rules:\n  - operations: [CREATE, UPDATE, DELETE]\n    apiGroups: ['']\n    apiVersions: [v1]\n"
        + "    resources: [configmaps]\n" + extra;
  }

  /** Admission configuration takes effect as the API server's watch delivers it: a moment after it is stored. */
  private static void awaitRefused(String... args) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (k.run(args).code() == 0) {
      assertTrue(System.currentTimeMillis() < deadline, "never refused: kubectl " + String.join(" ", args));
      Thread.sleep(200);
    }
  }

  private static void apply(String name, String yaml) throws Exception {
    k.ok("apply", "-f", file(name + ".yaml", yaml).toString());
  }

  @Test
  @Order(1)
  void aValidatingWebhookDeniesWhatItRefusesAndIsToldWhoAskedWhat() throws Exception {
    apply("deny", config("ValidatingWebhookConfiguration", "deny", "/validate",
        "  namespaceSelector:\n    matchLabels:\n      webhooks: \"on\"\n"));
    // Defaults as kube's.
    String defaults = k.ok("get", "validatingwebhookconfiguration", "deny", "-o",
        "jsonpath={.webhooks[0].failurePolicy} {.webhooks[0].matchPolicy} {.webhooks[0].timeoutSeconds} "
            + "{.webhooks[0].rules[0].scope} {.webhooks[0].objectSelector}");
    assertEquals("Fail Equivalent 10 * {}", defaults.trim());

    reviews.clear();
    Kubectl.Result labelled = k.run("apply", "-f", file("labelled.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        + "  name: labelled\n  namespace: guarded\n  labels:\n    deny: \"yes\"\ndata:\n  a: b\n").toString());
    assertNotEquals(0, labelled.code(), labelled.out());
    assertTrue(labelled.out().contains("admission webhook \"deny.kvx.test\" denied the request: objects labelled "
        + "deny=yes are not welcome"), labelled.out());
    assertTrue(k.run("get", "configmap", "labelled", "-n", "guarded").code() != 0, "a denied object is not stored");

    JsonObject request = reviews.get(reviews.size() - 1).getJsonObject("request");
    assertEquals("CREATE", request.getString("operation"));
    assertEquals("ConfigMap", request.getJsonObject("kind").getString("kind"));
    assertEquals("configmaps", request.getJsonObject("resource").getString("resource"));
    assertEquals("guarded", request.getString("namespace"));
    assertEquals("labelled", request.getString("name"));
    assertEquals("kvx-admin", request.getJsonObject("userInfo").getString("username"), request.encode());
    assertTrue(request.getJsonObject("object").getJsonObject("metadata").getString("uid", "").length() > 10,
        "validating admission sees the uid the object will have");
    // A server-side apply that creates is the same user's create.
    Kubectl.Result ssa = k.run("apply", "--server-side", "-f", file("ssa.yaml", "apiVersion: v1\nkind: ConfigMap\n"
        + "metadata:\n  name: ssa\n  namespace: guarded\n  labels:\n    deny: \"yes\"\n").toString());
    assertNotEquals(0, ssa.code(), ssa.out());
    assertEquals("kvx-admin", reviews.get(reviews.size() - 1).getJsonObject("request").getJsonObject("userInfo")
        .getString("username"));
    assertEquals("CreateOptions", request.getJsonObject("options").getString("kind"));
    assertEquals("timeout=10s", reviews.get(reviews.size() - 1).getString("query"));

    // Another namespace is not selected: no call, created.
    int before = reviews.size();
    k.ok("apply", "-f", file("open.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: labelled\n"
        + "  namespace: open\n  labels:\n    deny: \"yes\"\n").toString());
    assertEquals(before, reviews.size(), "the namespaceSelector keeps the webhook out of namespace open");

    // An allowed create carries the webhook's warning to kubectl.
    Kubectl.Result ok = k.run(Map.of(Kubectl.KEEP_WARNINGS, "1"), "create", "configmap", "fine", "-n", "guarded",
        "--from-literal=a=b");
    assertEquals(0, ok.code(), ok.out());
    assertTrue(ok.out().contains("Warning: checked by the test webhook"), ok.out());

    // An update that adds the label is denied too; the object stays as it was.
    Kubectl.Result update = k.run("label", "configmap", "fine", "-n", "guarded", "deny=yes");
    assertNotEquals(0, update.code(), update.out());
    assertTrue(update.out().contains("denied the request"), update.out());
    assertEquals("UPDATE", reviews.get(reviews.size() - 1).getJsonObject("request").getString("operation"));
    assertEquals("", k.ok("get", "configmap", "fine", "-n", "guarded", "-o", "jsonpath={.metadata.labels.deny}").trim());
  }

  @Test
  @Order(2)
  void aDeleteIsAskedAboutWithTheOldObject() throws Exception {
    k.ok("create", "configmap", "keep", "-n", "guarded", "--from-literal=a=b");
    k.ok("label", "configmap", "keep", "-n", "guarded", "protected=yes");
    Kubectl.Result del = k.run("delete", "configmap", "keep", "-n", "guarded");
    assertNotEquals(0, del.code(), del.out());
    assertTrue(del.out().contains("admission webhook \"deny.kvx.test\" denied the request: protected objects stay"),
        del.out());
    JsonObject request = reviews.get(reviews.size() - 1).getJsonObject("request");
    assertEquals("DELETE", request.getString("operation"));
    assertEquals("keep", request.getJsonObject("oldObject").getJsonObject("metadata").getString("name"));
    assertEquals("DeleteOptions", request.getJsonObject("options").getString("kind"));
    k.ok("get", "configmap", "keep", "-n", "guarded");
    k.ok("label", "configmap", "keep", "-n", "guarded", "protected-");
    k.ok("delete", "configmap", "keep", "-n", "guarded");
  }

  @Test
  @Order(3)
  void aMutatingWebhookPatchesCreatesAndUpdatesBeforeValidation() throws Exception {
    apply("mutate", config("MutatingWebhookConfiguration", "mutate", "/mutate",
        "  objectSelector:\n    matchExpressions:\n    - {key: skip-mutation, operator: DoesNotExist}\n"));
    k.ok("create", "configmap", "patched", "-n", "open", "--from-literal=a=b");
    assertEquals("create", k.ok("get", "configmap", "patched", "-n", "open", "-o",
        "jsonpath={.metadata.labels.mutated}").trim());
    k.ok("label", "configmap", "patched", "-n", "open", "touched=yes");
    assertEquals("update", k.ok("get", "configmap", "patched", "-n", "open", "-o",
        "jsonpath={.metadata.labels.mutated}").trim());
    // The objectSelector leaves labelled objects alone.
    k.ok("apply", "-f", file("skip.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: skipped\n"
        + "  namespace: open\n  labels:\n    skip-mutation: \"1\"\n").toString());
    assertEquals("", k.ok("get", "configmap", "skipped", "-n", "open", "-o",
        "jsonpath={.metadata.labels.mutated}").trim());
    // A server-side dry run goes through the webhooks (sideEffects None) and stores nothing.
    String dry = k.ok("create", "configmap", "dry", "-n", "open", "--dry-run=server", "-o",
        "jsonpath={.metadata.labels.mutated}");
    assertEquals("create", dry.trim());
    assertTrue(k.run("get", "configmap", "dry", "-n", "open").code() != 0);
    k.ok("delete", "mutatingwebhookconfiguration", "mutate");
  }

  @Test
  @Order(3)
  void aSidecarInjectorAddsAContainerThatIsDefaultedAsTheOthers() throws Exception {
    apply("inject", config("MutatingWebhookConfiguration", "inject", "/inject", "").replace("resources: [configmaps]",
        "resources: [pods]").replace("operations: [CREATE, UPDATE, DELETE]", "operations: [CREATE]"));
    k.ok("run", "app", "-n", "open", "--image=busybox", "--command", "--", "sleep", "3600");
    assertEquals("app sidecar", k.ok("get", "pod", "app", "-n", "open", "-o",
        "jsonpath={.spec.containers[*].name}").trim());
    assertEquals("Always File", k.ok("get", "pod", "app", "-n", "open", "-o",
        "jsonpath={.spec.containers[1].imagePullPolicy} {.spec.containers[1].terminationMessagePolicy}").trim(),
        "the injected container has the defaults a sent one gets");
    assertEquals("true", k.ok("get", "pod", "app", "-n", "open", "-o",
        "jsonpath={.metadata.annotations.kvx\\.test/injected}").trim());
    // The webhook is told the user kubectl authenticated as.
    assertEquals("kvx-admin", reviews.get(reviews.size() - 1).getJsonObject("request").getJsonObject("userInfo")
        .getString("username"));
    k.ok("delete", "mutatingwebhookconfiguration", "inject");
  }

  @Test
  @Order(3)
  void subresourcesWithTheirOwnKindsAndConnectAreAdmittedAndAPatchCannotMoveAnObject() throws Exception {
    apply("deny-all", "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
        + "metadata:\n  name: deny-all\nwebhooks:\n- name: deny-all.kvx.test\n  admissionReviewVersions: [v1]\n"
        + "  sideEffects: None\n  clientConfig:\n    url: https://127.0.0.1:" + HOOK_PORT + "/deny-all\n"
        + "    caBundle: " + caBundle + "\n  rules:\n  - operations: [CONNECT]\n    apiGroups: ['']\n"
        + "    apiVersions: [v1]\n    resources: [pods/exec]\n  - operations: [CREATE]\n    apiGroups: ['']\n"
        + "    apiVersions: [v1]\n    resources: [pods/eviction]\n  - operations: [UPDATE]\n    apiGroups: [apps]\n"
        + "    apiVersions: [v1]\n    resources: [deployments/scale]\n");
    k.ok("create", "deployment", "scaled", "-n", "open", "--image=busybox", "--replicas=1");
    Kubectl.Result scale = k.run(Map.of(Kubectl.KEEP_WARNINGS, "1"), "scale", "deployment", "scaled", "-n", "open",
        "--replicas=3");
    assertNotEquals(0, scale.code(), scale.out());
    // The webhook's own code (418) and no reason: kubectl prints "Error from server:" as for kube.
    assertTrue(scale.out().contains("Error from server: admission webhook \"deny-all.kvx.test\" denied the request: "
        + "no scale Scale here") && scale.out().contains("Warning: warned on deny"), scale.out());
    assertEquals("UPDATE", reviews.get(reviews.size() - 1).getJsonObject("request").getString("operation"));
    assertEquals("1", k.ok("get", "deployment", "scaled", "-n", "open", "-o", "jsonpath={.spec.replicas}").trim());

    k.ok("run", "target", "-n", "open", "--image=busybox", "--command", "--", "sleep", "3600");
    Kubectl.Result exec = k.run("exec", "target", "-n", "open", "--", "true");
    assertTrue(exec.out().contains("no exec PodExecOptions here"), "CONNECT admission comes first: " + exec.out());
    JsonObject connect = reviews.get(reviews.size() - 1).getJsonObject("request");
    assertEquals("CONNECT", connect.getString("operation"));
    assertEquals(new JsonArray().add("true"), connect.getJsonObject("object").getJsonArray("command"));
    Kubectl.Result evict = k.run("create", "--raw", "/api/v1/namespaces/open/pods/target/eviction", "-f",
        file("eviction.json", "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"target\","
            + "\"namespace\":\"open\"}}").toString());
    assertTrue(evict.code() != 0 && evict.out().contains("no eviction Eviction here"), evict.out());
    k.ok("get", "pod", "target", "-n", "open");
    k.ok("delete", "validatingwebhookconfiguration", "deny-all");

    apply("move", config("MutatingWebhookConfiguration", "move", "/move", ""));
    Kubectl.Result moved = k.run("create", "configmap", "stay", "-n", "open", "--from-literal=a=b");
    assertTrue(moved.code() != 0 && moved.out().contains("the namespace of the provided object does not match the "
        + "namespace sent on the request"), moved.out());
    assertTrue(k.run("get", "configmap", "stay", "-n", "guarded").code() != 0);
    k.ok("delete", "mutatingwebhookconfiguration", "move");
  }

  @Test
  @Order(4)
  void matchConditionsChooseWhichRequestsAWebhookSees() throws Exception {
    apply("conditions", config("ValidatingWebhookConfiguration", "conditions", "/wrong-uid",
        "  matchConditions:\n  - name: only-strict\n    expression: \"has(object.metadata.labels) && "
            + "'strict' in object.metadata.labels\"\n"));
    k.ok("create", "configmap", "relaxed", "-n", "open", "--from-literal=a=b");
    Kubectl.Result strict = k.run("apply", "-f", file("strict.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        + "  name: strict\n  namespace: open\n  labels:\n    strict: \"1\"\n").toString());
    assertNotEquals(0, strict.code(), strict.out());
    // The webhook answered for another request: kube's internal error, failurePolicy Fail.
    assertTrue(strict.out().contains("Internal error occurred: failed calling webhook \"conditions.kvx.test\"")
        && strict.out().contains("expected response.uid"), strict.out());
    k.ok("delete", "validatingwebhookconfiguration", "conditions");
  }

  @Test
  @Order(5)
  void failurePolicyDecidesWhenTheWebhookCannotBeReached() throws Exception {
    String unreachable = config("ValidatingWebhookConfiguration", "down", "/validate", "  failurePolicy: Fail\n")
        .replace(":" + HOOK_PORT + "/", ":18429/");
    apply("down", unreachable);
    Kubectl.Result refused = k.run("create", "configmap", "nobody-home", "-n", "open", "--from-literal=a=b");
    assertNotEquals(0, refused.code(), refused.out());
    assertTrue(refused.out().contains("Internal error occurred: failed calling webhook \"down.kvx.test\": failed to "
        + "call webhook: Post \"https://127.0.0.1:18429/validate?timeout=10s\""), refused.out());
    apply("down", unreachable.replace("failurePolicy: Fail", "failurePolicy: Ignore"));
    k.ok("create", "configmap", "nobody-home", "-n", "open", "--from-literal=a=b");
    k.ok("delete", "validatingwebhookconfiguration", "down");

    apply("slow", config("ValidatingWebhookConfiguration", "slow", "/slow", "  timeoutSeconds: 1\n"));
    long start = System.nanoTime();
    Kubectl.Result slow = k.run("create", "configmap", "too-slow", "-n", "open", "--from-literal=a=b");
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertNotEquals(0, slow.code(), slow.out());
    assertTrue(slow.out().contains("failed calling webhook \"slow.kvx.test\"") && slow.out().contains("deadline"),
        slow.out());
    assertTrue(millis < 3000, "the 1 s timeout ended the call, not the webhook's 3 s answer: " + millis + " ms");
    k.ok("delete", "validatingwebhookconfiguration", "slow");
  }

  @Test
  @Order(6)
  void aWebhookServiceIsReachedThroughItsEndpointsWithItsDnsName() throws Exception {
    k.ok("create", "namespace", "hooks");
    apply("hook-svc", "apiVersion: v1\nkind: Service\nmetadata:\n  name: hook\n  namespace: hooks\nspec:\n"
        + "  ports:\n  - name: https\n    port: 443\n    targetPort: " + HOOK_PORT + "\n---\n"
        + "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: hook\n  namespace: hooks\nsubsets:\n"
        + "- addresses:\n  - ip: 127.0.0.1\n  ports:\n  - name: https\n    port: " + HOOK_PORT + "\n");
    apply("svc-hook", "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\n"
        + "metadata:\n  name: svc-hook\nwebhooks:\n- name: svc.kvx.test\n  admissionReviewVersions: [v1beta1, v1]\n"
        + "  sideEffects: None\n  clientConfig:\n    service: {name: hook, namespace: hooks, path: /mutate}\n"
        + "    caBundle: " + caBundle + "\n  rules:\n  - operations: [CREATE]\n    apiGroups: ['']\n"
        + "    apiVersions: [v1]\n    resources: [secrets]\n    scope: Namespaced\n");
    assertEquals("443", k.ok("get", "mutatingwebhookconfiguration", "svc-hook", "-o",
        "jsonpath={.webhooks[0].clientConfig.service.port}").trim());
    k.ok("create", "secret", "generic", "via-service", "-n", "open", "--from-literal=a=b");
    assertEquals("create", k.ok("get", "secret", "via-service", "-n", "open", "-o",
        "jsonpath={.metadata.labels.mutated}").trim());
    assertEquals("admission.k8s.io/v1", reviews.get(reviews.size() - 1).getString("apiVersion"));
    k.ok("delete", "mutatingwebhookconfiguration", "svc-hook");
  }

  @Test
  @Order(7)
  void invalidConfigurationsAreRefusedNamingTheFields() throws Exception {
    Kubectl.Result bad = k.run("apply", "-f", file("bad.yaml", "apiVersion: admissionregistration.k8s.io/v1\n"
        + "kind: ValidatingWebhookConfiguration\nmetadata:\n  name: bad\nwebhooks:\n- name: short\n"
        + "  clientConfig:\n    url: http://127.0.0.1/x\n  timeoutSeconds: 60\n  failurePolicy: Sometimes\n"
        + "  matchConditions:\n  - name: broken\n    expression: \"object.metadata.(\"\n").toString());
    assertNotEquals(0, bad.code(), bad.out());
    for (String expected : List.of("webhooks[0].name: Invalid value: \"short\": should be a domain with at least "
            + "three segments separated by dots", "webhooks[0].sideEffects: Required value",
        "webhooks[0].admissionReviewVersions: Required value", "webhooks[0].clientConfig.url: Invalid value",
        "webhooks[0].timeoutSeconds: Invalid value: 60:", "webhooks[0].failurePolicy: Unsupported value: \"Sometimes\"",
        "webhooks[0].matchConditions[0].expression: Invalid value")) {
      assertTrue(bad.out().contains(expected), "missing <" + expected + "> in " + bad.out());
    }
    assertTrue(bad.out().contains("is invalid"), bad.out());
    // The configurations themselves are never sent to webhooks: a broken one can always be removed.
    k.ok("delete", "validatingwebhookconfiguration", "deny");
    k.ok("apply", "-f", dir.resolve("labelled.yaml").toString());
  }

  private static final String POLICY = """
      apiVersion: admissionregistration.k8s.io/v1
      kind: ValidatingAdmissionPolicy
      metadata: {name: replica-limit.kvx.test}
      spec:
        matchConstraints:
          resourceRules:
          - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
        variables:
        - {name: replicas, expression: "has(object.spec.replicas) ? object.spec.replicas : 1"}
        validations:
        - expression: "variables.replicas <= 5"
        - expression: "!has(object.metadata.labels) || !('team' in object.metadata.labels) || object.metadata.labels.team == namespaceObject.metadata.name"
          messageExpression: "'team label ' + object.metadata.labels.team + ' is not namespace ' + namespaceObject.metadata.name"
          reason: Forbidden
      ---
      apiVersion: admissionregistration.k8s.io/v1
      kind: ValidatingAdmissionPolicyBinding
      metadata: {name: replica-limit-binding}
      spec:
        policyName: replica-limit.kvx.test
        validationActions: [Deny]
        matchResources:
          namespaceSelector:
            matchLabels: {webhooks: "on"}
      """;

  @Test
  @Order(8)
  void aValidatingAdmissionPolicyDeniesWithItsMessageAndReason() throws Exception {
    apply("policy", POLICY);
    String listed = k.ok("get", "validatingadmissionpolicies");
    assertTrue(listed.contains("VALIDATIONS") && listed.matches("(?s).*replica-limit.kvx.test\\s+2\\s+<unset>\\s.*"),
        listed);
    assertEquals("Fail", k.ok("get", "validatingadmissionpolicy", "replica-limit.kvx.test", "-o",
        "jsonpath={.spec.failurePolicy}").trim());
    awaitRefused("create", "deployment", "big", "-n", "guarded", "--image=busybox", "--replicas=7", "--dry-run=server");
    Kubectl.Result big = k.run("create", "deployment", "big", "-n", "guarded", "--image=busybox", "--replicas=7");
    assertNotEquals(0, big.code(), big.out());
    assertTrue(big.out().contains("deployments.apps \"big\" is forbidden: ValidatingAdmissionPolicy "
        + "'replica-limit.kvx.test' with binding 'replica-limit-binding' denied request: failed expression: "
        + "variables.replicas <= 5"), big.out());
    k.ok("create", "deployment", "small", "-n", "guarded", "--image=busybox", "--replicas=2");
    // An update of the deployment is checked; deployments/scale is another resource the rule does not name (as kube).
    Kubectl.Result patched = k.run("patch", "deployment", "small", "-n", "guarded", "-p", "{\"spec\":{\"replicas\":9}}");
    assertNotEquals(0, patched.code(), patched.out());
    assertTrue(patched.out().contains("failed expression: variables.replicas <= 5"), patched.out());
    k.ok("scale", "deployment", "small", "-n", "guarded", "--replicas=9");
    k.ok("scale", "deployment", "small", "-n", "guarded", "--replicas=2");
    apply("scale-policy", """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: scale-limit.kvx.test}
        spec:
          matchConstraints:
            resourceRules:
            - {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments/scale]}
          validations:
          - {expression: "object.spec.replicas <= 5", message: "scale to 5 at most"}
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: scale-limit}
        spec: {policyName: scale-limit.kvx.test, validationActions: [Deny]}
        """);
    assertEquals("1", k.ok("get", "validatingadmissionpolicy", "scale-limit.kvx.test", "-o",
        "jsonpath={.status.observedGeneration}").trim());
    awaitRefused("scale", "deployment", "small", "-n", "guarded", "--replicas=9");
    Kubectl.Result overScaled = k.run("scale", "deployment", "small", "-n", "guarded", "--replicas=8");
    assertTrue(overScaled.out().contains("denied request: scale to 5 at most"), overScaled.out());
    k.ok("delete", "validatingadmissionpolicybinding", "scale-limit");
    // namespaceObject and messageExpression; reason Forbidden is a 403.
    Kubectl.Result team = k.run("label", "deployment", "small", "-n", "guarded", "team=other");
    assertNotEquals(0, team.code(), team.out());
    assertTrue(team.out().contains("Error from server (Forbidden)") && team.out().contains(
        "denied request: team label other is not namespace guarded"), team.out());
    k.ok("label", "deployment", "small", "-n", "guarded", "team=guarded");
    // The binding's namespaceSelector leaves namespace open alone.
    k.ok("create", "deployment", "big", "-n", "open", "--image=busybox", "--replicas=7");
  }

  @Test
  @Order(9)
  void paramsComeFromTheObjectTheBindingNamesAndWarnBindingsOnlyWarn() throws Exception {
    apply("params", """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: max-keys.kvx.test}
        spec:
          paramKind: {apiVersion: v1, kind: ConfigMap}
          matchConstraints:
            resourceRules:
            - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [secrets]}
          validations:
          - expression: "size(object.data) <= int(params.data.maxKeys)"
            messageExpression: "'at most ' + params.data.maxKeys + ' keys'"
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: max-keys}
        spec:
          policyName: max-keys.kvx.test
          validationActions: [Deny]
          paramRef: {name: secret-limits, parameterNotFoundAction: Deny}
          matchResources:
            namespaceSelector: {matchLabels: {webhooks: "on"}}
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: max-keys-warn}
        spec:
          policyName: max-keys.kvx.test
          validationActions: [Warn]
          paramRef: {name: secret-limits, parameterNotFoundAction: Allow}
          matchResources:
            namespaceSelector: {matchExpressions: [{key: webhooks, operator: DoesNotExist}]}
        """);
    assertTrue(k.ok("get", "validatingadmissionpolicybindings").matches("(?s).*max-keys\\s+max-keys.kvx.test\\s+"
        + "\\*/secret-limits\\s.*"));
    // No params object in the namespace: parameterNotFoundAction Deny.
    Kubectl.Result none = k.run("create", "secret", "generic", "s0", "-n", "guarded", "--from-literal=a=1");
    assertNotEquals(0, none.code(), none.out());
    assertTrue(none.out().contains("no params found for policy binding with `Deny` parameterNotFoundAction"), none.out());
    k.ok("create", "configmap", "secret-limits", "-n", "guarded", "--from-literal=maxKeys=1");
    k.ok("create", "secret", "generic", "s1", "-n", "guarded", "--from-literal=a=1");
    Kubectl.Result two = k.run("create", "secret", "generic", "s2", "-n", "guarded", "--from-literal=a=1",
        "--from-literal=b=2");
    assertNotEquals(0, two.code(), two.out());
    assertTrue(two.out().contains("denied request: at most 1 keys"), two.out());
    // Warn: created, with the failure as a warning.
    k.ok("create", "configmap", "secret-limits", "-n", "open", "--from-literal=maxKeys=1");
    Kubectl.Result warned = k.run(Map.of(Kubectl.KEEP_WARNINGS, "1"), "create", "secret", "generic", "s2", "-n", "open",
        "--from-literal=a=1", "--from-literal=b=2");
    assertEquals(0, warned.code(), warned.out());
    assertTrue(warned.out().contains("Warning: Validation failed for ValidatingAdmissionPolicy 'max-keys.kvx.test' with "
        + "binding 'max-keys-warn': at most 1 keys"), warned.out());
    k.ok("delete", "validatingadmissionpolicybinding", "max-keys", "max-keys-warn");
    k.ok("create", "secret", "generic", "s3", "-n", "guarded", "--from-literal=a=1", "--from-literal=b=2");
  }

  @Test
  @Order(10)
  void invalidPoliciesAndBindingsAreRefusedNamingTheFields() throws Exception {
    Kubectl.Result bad = k.run("apply", "-f", file("bad-policy.yaml", """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: broken.kvx.test}
        spec:
          failurePolicy: Maybe
          matchConstraints:
            resourceRules:
            - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
          validations:
          - expression: "object.spec.("
            reason: Teapot
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: broken}
        spec:
          validationActions: [Deny, Warn]
        """).toString());
    assertNotEquals(0, bad.code(), bad.out());
    for (String expected : List.of("spec.failurePolicy: Unsupported value: \"Maybe\"",
        "spec.validations[0].expression: Invalid value", "spec.validations[0].reason: Unsupported value: \"Teapot\"",
        "spec.policyName: Required value", "spec.validationActions: Invalid value")) {
      assertTrue(bad.out().contains(expected), "missing <" + expected + "> in " + bad.out());
    }
    k.ok("delete", "validatingadmissionpolicybinding", "replica-limit-binding");
    k.ok("create", "deployment", "big", "-n", "guarded", "--image=busybox", "--replicas=7");
  }

  @Test
  @Order(11)
  void podSecurityAdmissionEnforcesAndWarnsByNamespaceLabels() throws Exception {
    k.ok("create", "namespace", "secure");
    k.ok("label", "namespace", "secure", "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted");
    Kubectl.Result plain = k.run("run", "plain", "-n", "secure", "--image=busybox");
    assertNotEquals(0, plain.code(), plain.out());
    assertTrue(plain.out().contains("Error from server (Forbidden): pods \"plain\" is forbidden: violates PodSecurity "
        + "\"restricted:latest\": allowPrivilegeEscalation != false (container \"plain\" must set "
        + "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"plain\" must set "
        + "securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"plain\" must set "
        + "securityContext.runAsNonRoot=true), seccompProfile (pod or container \"plain\" must set "
        + "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"), plain.out());
    k.ok("apply", "-f", file("restricted-pod.yaml", """
        apiVersion: v1
        kind: Pod
        metadata: {name: compliant, namespace: secure}
        spec:
          securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: c
            image: busybox
            securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
        """).toString());
    // An ephemeral container (kubectl debug) is checked too.
    Kubectl.Result debug = k.run("debug", "compliant", "-n", "secure", "--image=busybox", "--", "true");
    assertTrue(debug.code() != 0 && debug.out().contains("violates PodSecurity \"restricted:latest\""), debug.out());
    // A Deployment is not refused (its pods would be), but warned about.
    Kubectl.Result deployment = k.run(Map.of(Kubectl.KEEP_WARNINGS, "1"), "create", "deployment", "web", "-n", "secure",
        "--image=busybox");
    assertEquals(0, deployment.code(), deployment.out());
    assertTrue(deployment.out().contains("Warning: would violate PodSecurity \"restricted:latest\": "
        + "allowPrivilegeEscalation != false"), deployment.out());
    // Its ReplicaSet's pods are refused: the Deployment says so, and the controller backs off (a few FailedCreate
    // events, not one per few milliseconds).
    k.await(Duration.ofSeconds(20), out -> out.contains("FailedCreate"), "get", "deployment", "web", "-n", "secure", "-o",
        "jsonpath={.status.conditions[?(@.type==\"ReplicaFailure\")].reason}");
    Thread.sleep(5000);
    long failures = k.ok("get", "events", "-n", "secure", "-o",
        "jsonpath={range .items[?(@.reason==\"FailedCreate\")]}{.count}{\"\\n\"}{end}").lines()
        .filter(l -> !l.isBlank()).mapToLong(Long::parseLong).sum();
    assertTrue(failures > 0 && failures < 20, "FailedCreate events after ~6 s: " + failures);
    // An invalid level is refused naming the label.
    Kubectl.Result invalid = k.run("label", "namespace", "secure", "--overwrite",
        "pod-security.kubernetes.io/enforce=strict");
    assertTrue(invalid.code() != 0 && invalid.out().contains("metadata.labels[pod-security.kubernetes.io/enforce]: "
        + "Invalid value: \"strict\": must be one of privileged, baseline, restricted"), invalid.out());
    // Enforcing on a namespace with pods that violate it: allowed, with warnings naming them.
    Kubectl.Result tightened = k.run(Map.of(Kubectl.KEEP_WARNINGS, "1"), "label", "namespace", "open",
        "pod-security.kubernetes.io/enforce=baseline");
    assertEquals(0, tightened.code(), tightened.out());
    k.ok("label", "namespace", "open", "pod-security.kubernetes.io/enforce=restricted", "--overwrite");
    Kubectl.Result restricted = k.run(Map.of(Kubectl.KEEP_WARNINGS, "1"), "label", "namespace", "open",
        "pod-security.kubernetes.io/enforce-version=v1.34", "--overwrite");
    assertEquals(0, restricted.code(), restricted.out());
    assertTrue(restricted.out().contains("Warning: existing pods in namespace \"open\" violate the new PodSecurity "
        + "enforce level \"restricted:v1.34\"") && restricted.out().contains(" other pods): allowPrivilegeEscalation "
        + "!= false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"), restricted.out());
    k.ok("label", "namespace", "open", "pod-security.kubernetes.io/enforce-", "pod-security.kubernetes.io/enforce-version-");
    k.ok("run", "again", "-n", "open", "--image=busybox");
  }
}
