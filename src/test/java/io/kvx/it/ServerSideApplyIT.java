package io.kvx.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Server-side apply as a kubectl v1.35 user sees it, against one kvx JVM (sequencer and API server):
 * managedFields on every write, apply's conflicts and --force-conflicts, shared ownership, removal of
 * what an applier stops applying, kubectl edit/label/scale/patch --subresource=status managers,
 * client-side apply migrated to server-side apply, dry runs, custom resources, and the Status the
 * API answers with for a bad apply request.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServerSideApplyIT {

  private static final String DEPLOYMENT = """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
        labels: {app: web, tier: front}
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
              image: busybox:1
              ports:
              - containerPort: 8080
      """;

  private static KvxProcess kvx;
  private static Kubectl kubectl;
  private static ApiHttp http;
  private static Path dir;

  @BeforeAll
  static void up() throws Exception {
    Path home = Files.createTempDirectory("kvx-it-ssa");
    dir = Files.createTempDirectory("kvx-it-ssa-yaml");
    kvx = KvxProcess.start("ssa", home, 17443, "up", "--cluster-port", "5721", "--secret", "it-ssa",
        "--roles", "sequencer,apiserver");
    kvx.awaitReady(Duration.ofSeconds(60));
    kubectl = new Kubectl(kvx.kubeconfig());
    http = new ApiHttp(kvx);
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

  /** The object's managedFields as kubectl shows them (JSON, --show-managed-fields). */
  private static JsonArray managed(String... resource) throws Exception {
    List<String> args = new ArrayList<>(List.of("get"));
    args.addAll(List.of(resource));
    args.addAll(List.of("-o", "json", "--show-managed-fields"));
    JsonObject obj = new JsonObject(kubectl.ok(args.toArray(String[]::new)));
    return obj.getJsonObject("metadata").getJsonArray("managedFields", new JsonArray());
  }

  private static JsonObject entry(JsonArray managed, String manager, String operation) {
    for (Object o : managed) {
      JsonObject e = (JsonObject) o;
      if (e.getString("manager").equals(manager) && e.getString("operation").equals(operation)) return e;
    }
    return null;
  }

  private static boolean owns(JsonObject entry, String... path) {
    JsonObject node = entry.getJsonObject("fieldsV1");
    for (String p : path) {
      if (node == null) return false;
      node = node.getJsonObject(p);
    }
    return node != null;
  }

  private static String get(String jsonpath, String... resource) throws Exception {
    List<String> args = new ArrayList<>(List.of("get"));
    args.addAll(List.of(resource));
    args.addAll(List.of("-o", "jsonpath=" + jsonpath));
    return kubectl.ok(args.toArray(String[]::new)).trim();
  }

  @Test
  @Order(1)
  void applyCreatesAndRecordsTheApplierAsOwner() throws Exception {
    String f = file("deploy.yaml", DEPLOYMENT);
    // -v=6 prints each response's status: an apply that creates is a 201, as in Kubernetes.
    String created = kubectl.ok("apply", "--server-side", "-f", f, "-v=6");
    assertTrue(created.contains("deployment.apps/web serverside-applied"), created);
    assertTrue(created.contains("verb=\"PATCH\"") && created.contains("201 Created"), created);
    assertFalse(kubectl.ok("get", "deployment", "web", "-o", "yaml").contains("managedFields"),
        "kubectl hides managedFields unless asked");
    String yaml = kubectl.ok("get", "deployment", "web", "-o", "yaml", "--show-managed-fields");
    assertTrue(yaml.contains("manager: kubectl") && yaml.contains("operation: Apply")
        && yaml.contains("fieldsType: FieldsV1") && yaml.contains("k:{\"name\":\"web\"}:")
        && yaml.contains("k:{\"containerPort\":8080,\"protocol\":\"TCP\"}:"), yaml);
    JsonObject apply = entry(managed("deployment", "web"), "kubectl", "Apply");
    assertEquals("apps/v1", apply.getString("apiVersion"));
    assertTrue(owns(apply, "f:spec", "f:replicas"));
    assertFalse(owns(apply, "f:spec", "f:progressDeadlineSeconds"), "defaulted fields are nobody's");

    // A changed manifest re-applied: the change lands, the entry is rewritten, not added to.
    Files.writeString(Path.of(f), DEPLOYMENT.replace("busybox:1", "busybox:2"));
    kubectl.ok("apply", "--server-side", "-f", f);
    assertEquals("busybox:2", get("{.spec.template.spec.containers[0].image}", "deployment", "web"));
    assertEquals(1, managed("deployment", "web").size());

    // The same manifest again changes nothing: no new resourceVersion (and a 200, not a 201).
    String rv = get("{.metadata.resourceVersion}", "deployment", "web");
    String again = kubectl.ok("apply", "--server-side", "-f", f, "-v=6");
    assertTrue(again.contains("200 OK") && !again.contains("201 Created"), again);
    assertEquals(rv, get("{.metadata.resourceVersion}", "deployment", "web"));
  }

  @Test
  @Order(2)
  void scaleThenReapplyConflictsUntilForced() throws Exception {
    String f = dir.resolve("deploy.yaml").toString();
    kubectl.ok("scale", "deployment", "web", "--replicas=5");
    JsonObject scaler = entry(managed("deployment", "web"), "kubectl", "Update");
    assertEquals("scale", scaler.getString("subresource"));
    assertTrue(owns(scaler, "f:spec", "f:replicas"));

    Kubectl.Result conflict = kubectl.run("apply", "--server-side", "-f", f);
    assertEquals(1, conflict.code(), conflict.out());
    assertTrue(conflict.out().contains("error: Apply failed with 1 conflict: conflict with \"kubectl\" with "
        + "subresource \"scale\" using apps/v1: .spec.replicas"), conflict.out());
    assertTrue(conflict.out().contains("--force-conflicts"), conflict.out());
    assertEquals("5", get("{.spec.replicas}", "deployment", "web"));

    kubectl.ok("apply", "--server-side", "--force-conflicts", "-f", f);
    assertEquals("2", get("{.spec.replicas}", "deployment", "web"));
    JsonArray after = managed("deployment", "web");
    assertEquals(null, entry(after, "kubectl", "Update"), "the scaler lost its only field: " + after);
    assertTrue(owns(entry(after, "kubectl", "Apply"), "f:spec", "f:replicas"));
  }

  @Test
  @Order(3)
  void twoAppliersOfOneValueShareItAndAnotherValueConflicts() throws Exception {
    String same = file("replicas2.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {replicas: 2}
        """);
    kubectl.ok("apply", "--server-side", "--field-manager=ci", "-f", same);
    JsonArray m = managed("deployment", "web");
    assertTrue(owns(entry(m, "ci", "Apply"), "f:spec", "f:replicas"), m.encode());
    assertTrue(owns(entry(m, "kubectl", "Apply"), "f:spec", "f:replicas"), m.encode());

    String other = file("replicas3.yaml", Files.readString(Path.of(same)).replace("replicas: 2", "replicas: 3"));
    Kubectl.Result r = kubectl.run("apply", "--server-side", "--field-manager=ci", "-f", other);
    assertEquals(1, r.code());
    assertTrue(r.out().contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"), r.out());
  }

  @Test
  @Order(4)
  void whatAnApplierDropsGoesButNotWhatOthersSet() throws Exception {
    kubectl.ok("label", "deployment", "web", "team=blue");
    JsonObject labeller = entry(managed("deployment", "web"), "kubectl-label", "Update");
    assertTrue(owns(labeller, "f:metadata", "f:labels", "f:team"));

    String f = dir.resolve("deploy.yaml").toString();
    Files.writeString(Path.of(f), Files.readString(Path.of(f)).replace(", tier: front", ""));
    kubectl.ok("apply", "--server-side", "-f", f);
    String labels = get("{.metadata.labels}", "deployment", "web");
    assertEquals(new JsonObject().put("app", "web").put("team", "blue"), new JsonObject(labels));
  }

  @Test
  @Order(5)
  void editAndStatusWritesRecordTheirManagers() throws Exception {
    Path editor = dir.resolve("editor.sh");
    Files.writeString(editor, "#!/bin/sh\nsed -i 's/image: busybox:2/image: busybox:3/' \"$1\"\n");
    editor.toFile().setExecutable(true);
    Kubectl.Result edit = kubectl.run(Map.of("KUBE_EDITOR", editor.toString()), "edit", "deployment", "web");
    assertEquals(0, edit.code(), edit.out());
    JsonArray m = managed("deployment", "web");
    JsonObject editEntry = entry(m, "kubectl-edit", "Update");
    assertTrue(owns(editEntry, "f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"web\"}", "f:image"),
        m.encode());
    assertFalse(owns(entry(m, "kubectl", "Apply"), "f:spec", "f:template", "f:spec", "f:containers",
        "k:{\"name\":\"web\"}", "f:image"), "the edit took the image over");

    kubectl.ok("patch", "deployment", "web", "--subresource=status", "--type=merge", "-p",
        "{\"status\":{\"replicas\":7}}");
    JsonObject status = entry(managed("deployment", "web"), "kubectl-patch", "Update");
    assertEquals("status", status.getString("subresource"));
    assertEquals(new JsonObject("{\"f:status\":{\"f:replicas\":{}}}"), status.getJsonObject("fieldsV1"));
  }

  @Test
  @Order(6)
  void clientSideApplyMigratesToServerSideApply() throws Exception {
    String cm = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: migrated
        data:
          a: "1"
          b: "2"
        """;
    String f = file("cm.yaml", cm);
    kubectl.ok("apply", "-f", f);
    assertTrue(owns(entry(managed("configmap", "migrated"), "kubectl-client-side-apply", "Update"), "f:data", "f:b"));

    assertTrue(kubectl.ok("apply", "--server-side", "-f", f).contains("serverside-applied"));
    JsonArray m = managed("configmap", "migrated");
    assertTrue(owns(entry(m, "kubectl", "Apply"), "f:data", "f:b"), m.encode());
    JsonObject csa = entry(m, "kubectl-client-side-apply", "Update");
    assertTrue(csa == null || !owns(csa, "f:data"), m.encode());

    // Ownership moved: dropping a key from the manifest now removes it.
    Files.writeString(Path.of(f), cm.replace("  b: \"2\"\n", ""));
    kubectl.ok("apply", "--server-side", "-f", f);
    assertEquals(new JsonObject().put("a", "1"), new JsonObject(get("{.data}", "configmap", "migrated")));
  }

  @Test
  @Order(7)
  void dryRunAppliesNothing() throws Exception {
    String f = file("dry.yaml", """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: dry}
        data: {k: v}
        """);
    String out = kubectl.ok("apply", "--server-side", "--dry-run=server", "-f", f);
    assertTrue(out.contains("configmap/dry serverside-applied (server dry run)"), out);
    assertEquals(1, kubectl.run("get", "configmap", "dry").code());
    String migrated = dir.resolve("cm.yaml").toString();
    Files.writeString(Path.of(migrated), Files.readString(Path.of(migrated)).replace("a: \"1\"", "a: \"9\""));
    String rv = get("{.metadata.resourceVersion}", "configmap", "migrated");
    kubectl.ok("apply", "--server-side", "--dry-run=server", "-f", migrated);
    assertEquals(rv, get("{.metadata.resourceVersion}", "configmap", "migrated"));
    assertEquals("1", get("{.data.a}", "configmap", "migrated"));
  }

  @Test
  @Order(8)
  void customResourcesMergeTheirListsByMapKeys() throws Exception {
    String crd = file("crd.yaml", """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: routers.ssa.example.com
        spec:
          group: ssa.example.com
          names: {plural: routers, singular: router, kind: Router}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      replicas: {type: integer}
                      routes:
                        type: array
                        x-kubernetes-list-type: map
                        x-kubernetes-list-map-keys: [host]
                        items:
                          type: object
                          properties:
                            host: {type: string}
                            weight: {type: integer}
                  status:
                    type: object
                    properties:
                      replicas: {type: integer}
        """);
    kubectl.ok("apply", "--server-side", "-f", crd);
    String cr = """
        apiVersion: ssa.example.com/v1
        kind: Router
        metadata: {name: r1}
        spec:
          replicas: 1
          routes:
          - {host: a, weight: 1}
          - {host: b, weight: 2}
        """;
    String f = file("cr.yaml", cr);
    kubectl.await(Duration.ofSeconds(20), out -> out.contains("serverside-applied"), "apply", "--server-side", "-f",
        f);
    kubectl.ok("apply", "--server-side", "--field-manager=other", "-f", file("cr-other.yaml", """
        apiVersion: ssa.example.com/v1
        kind: Router
        metadata: {name: r1}
        spec:
          routes:
          - {host: c, weight: 3}
        """));
    Files.writeString(Path.of(f), cr.replace("  - {host: a, weight: 1}\n", "").replace("weight: 2", "weight: 5"));
    kubectl.ok("apply", "--server-side", "-f", f);
    assertEquals(new JsonArray("[{\"host\":\"b\",\"weight\":5},{\"host\":\"c\",\"weight\":3}]"),
        new JsonArray(get("{.spec.routes}", "router", "r1")));
    JsonObject mine = entry(managed("router", "r1"), "kubectl", "Apply");
    assertEquals("ssa.example.com/v1", mine.getString("apiVersion"));
    assertTrue(owns(mine, "f:spec", "f:routes", "k:{\"host\":\"b\"}", "f:weight"));

    kubectl.ok("scale", "router", "r1", "--replicas=4");
    Kubectl.Result r = kubectl.run("apply", "--server-side", "-f", f);
    assertTrue(r.out().contains("conflict with \"kubectl\" with subresource \"scale\" using ssa.example.com/v1: "
        + ".spec.replicas"), r.out());
  }

  @Test
  @Order(10)
  void whatAdmissionAddsToAPodBelongsToNoManager() throws Exception {
    kubectl.ok("run", "solo", "--image=busybox:1", "--restart=Never", "--", "sleep", "3600");
    JsonObject run = entry(managed("pod", "solo"), "kubectl-run", "Update");
    // The user's fields and the defaults decoding fills in are the creator's, as in kube-apiserver ...
    assertTrue(owns(run, "f:spec", "f:containers", "k:{\"name\":\"solo\"}", "f:image"), run.encode());
    assertTrue(owns(run, "f:spec", "f:dnsPolicy"), run.encode());
    assertTrue(owns(run, "f:metadata", "f:labels", "f:run"), run.encode());
    // ... what admission adds afterwards (ServiceAccount, token volume, priority, default tolerations) is not.
    for (String f : List.of("f:volumes", "f:serviceAccountName", "f:serviceAccount", "f:priority", "f:tolerations")) {
      assertFalse(owns(run, "f:spec", f), f + " in " + run.encode());
    }
    assertFalse(owns(run, "f:spec", "f:containers", "k:{\"name\":\"solo\"}", "f:volumeMounts"), run.encode());
    assertTrue(get("{.spec.volumes[0].name}", "pod", "solo").startsWith("kube-api-access-"));
    assertEquals("default", get("{.spec.serviceAccountName}", "pod", "solo"));
    assertEquals("0", get("{.spec.priority}", "pod", "solo"));
    kubectl.ok("delete", "pod", "solo", "--wait=false");
  }

  @Test
  @Order(9)
  void badApplyRequestsGetKubernetesStatuses() throws Exception {
    String body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: raw}\ndata: {k: v}\n";
    ApiHttp.Reply noManager = http.send("PATCH", "/api/v1/namespaces/default/configmaps/raw",
        "application/apply-patch+yaml", body);
    assertEquals(422, noManager.code());
    assertEquals("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply "
        + "patch", noManager.body().getString("message"));

    ApiHttp.Reply created = http.send("PATCH", "/api/v1/namespaces/default/configmaps/raw?fieldManager=raw",
        "application/apply-patch+yaml", body);
    assertTrue(created.code() == 200 || created.code() == 201, created.body().encode());
    JsonObject e = created.body().getJsonObject("metadata").getJsonArray("managedFields").getJsonObject(0);
    assertEquals("raw", e.getString("manager"));

    ApiHttp.Reply withManaged = http.send("PATCH", "/api/v1/namespaces/default/configmaps/raw?fieldManager=raw",
        "application/apply-patch+yaml", body.replace("{name: raw}", "{name: raw, managedFields: []}"));
    assertEquals(400, withManaged.code());
    // An applied configuration of another object, or in another namespace, changes nothing: 400 as kube.
    ApiHttp.Reply otherName = http.send("PATCH", "/api/v1/namespaces/default/configmaps/raw?fieldManager=raw",
        "application/apply-patch+yaml", body.replace("{name: raw}", "{name: other}"));
    assertEquals(400, otherName.code());
    assertEquals("the name of the object (other) does not match the name on the URL (raw)",
        otherName.body().getString("message"));
    ApiHttp.Reply otherNs = http.send("PATCH", "/api/v1/namespaces/default/configmaps/raw?fieldManager=raw",
        "application/apply-patch+yaml", body.replace("{name: raw}", "{name: raw, namespace: elsewhere}"));
    assertEquals(400, otherNs.code());

    ApiHttp.Reply force = http.send("PATCH", "/api/v1/namespaces/default/configmaps/raw?force=true",
        "application/merge-patch+json", "{\"data\":{\"k\":\"w\"}}");
    assertEquals(422, force.code());

    // A plain update names its manager after the User-Agent (java's HttpClient: "Java-http-client").
    ApiHttp.Reply merged = http.send("PATCH", "/api/v1/namespaces/default/configmaps/raw",
        "application/merge-patch+json", "{\"data\":{\"k\":\"w\"}}");
    assertNotEquals(null, entry(merged.body().getJsonObject("metadata").getJsonArray("managedFields"),
        "Java-http-client", "Update"), merged.body().encode());

    // Clearing: a list of one empty entry resets managedFields.
    kubectl.ok("patch", "configmap", "raw", "--type=merge", "-p", "{\"metadata\":{\"managedFields\":[{}]}}");
    assertEquals(0, managed("configmap", "raw").size());
  }
}
