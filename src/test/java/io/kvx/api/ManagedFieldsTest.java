package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManagedFieldsTest {

  private static final ResourceType DEPLOYMENTS = Resources.builtIn("apps", "deployments");
  private static final ResourceType CONFIGMAPS = Resources.builtIn("", "configmaps");
  private static final String T0 = "2026-11-23T10:00:00Z";
  private static final String T1 = "2026-11-23T10:00:01Z";

  private static final JsonObject CONFIG = new JsonObject("""
      {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
       "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80}]}]}}}}""");

  private static ManagedFields.Context ctx(ResourceType type, String manager, String sub, String now) {
    return new ManagedFields.Context(type, manager, sub, now);
  }

  /** Stores an object as the API server does: the new managedFields on it. */
  private static JsonObject with(JsonObject obj, JsonArray managed) {
    JsonObject out = obj.copy();
    Meta.meta(out).put("managedFields", managed);
    return out;
  }

  private static JsonObject entry(JsonObject obj, String manager, String operation) {
    for (Object o : Meta.meta(obj).getJsonArray("managedFields", new JsonArray())) {
      JsonObject e = (JsonObject) o;
      if (e.getString("manager").equals(manager) && e.getString("operation").equals(operation)) return e;
    }
    return null;
  }

  /** kubectl apply --server-side of CONFIG onto nothing: the created object. */
  private static JsonObject applied() {
    JsonObject created = CONFIG.copy();
    return with(created, ManagedFields.apply(ctx(DEPLOYMENTS, "kubectl", null, T0), new JsonObject(), created, CONFIG,
        false));
  }

  @Test
  void applyOwnsExactlyTheAppliedFields() {
    JsonObject e = entry(applied(), "kubectl", "Apply");
    assertEquals("apps/v1", e.getString("apiVersion"));
    assertEquals("FieldsV1", e.getString("fieldsType"));
    assertEquals(T0, e.getString("time"));
    assertFalse(e.containsKey("subresource"));
    assertEquals(new JsonObject("""
        {"f:metadata":{"f:labels":{"f:app":{}}},
         "f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
          "f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{},
           "f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}"""),
        e.getJsonObject("fieldsV1"));
  }

  @Test
  void updateOwnsWhatItAddedOrChanged() {
    JsonObject base = new JsonObject();
    JsonObject cm = new JsonObject("""
        {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":"1"}},"data":{"k":"v"}}""");
    JsonObject created = with(cm, ManagedFields.update(ctx(CONFIGMAPS, "kubectl-create", null, T0), base, cm,
        List.of()));
    assertEquals(new JsonObject("{\"f:data\":{\".\":{},\"f:k\":{}},\"f:metadata\":{\"f:labels\":{\".\":{},"
        + "\"f:a\":{}}}}"),
        entry(created, "kubectl-create", "Update").getJsonObject("fieldsV1"));

    // kubectl label changes one label: it owns that label, the creator keeps the rest.
    JsonObject labelled = created.copy();
    Meta.meta(labelled).getJsonObject("labels").put("a", "2").put("b", "x");
    JsonObject after = with(labelled, ManagedFields.update(ctx(CONFIGMAPS, "kubectl-label", null, T1), created,
        labelled, ManagedFields.fromRequest(null, created, null)));
    assertEquals(new JsonObject("{\"f:metadata\":{\"f:labels\":{\"f:a\":{},\"f:b\":{}}}}"),
        entry(after, "kubectl-label", "Update").getJsonObject("fieldsV1"));
    assertEquals(new JsonObject("{\"f:data\":{\".\":{},\"f:k\":{}},\"f:metadata\":{\"f:labels\":{}}}"),
        entry(after, "kubectl-create", "Update").getJsonObject("fieldsV1"));
    assertEquals(T0, entry(after, "kubectl-create", "Update").getString("time"));

    // A write that changes nothing records nothing new.
    JsonArray same = ManagedFields.update(ctx(CONFIGMAPS, "someone", null, T1), after, after.copy(),
        ManagedFields.fromRequest(null, after, null));
    assertEquals(Meta.meta(after).getJsonArray("managedFields"), same);
  }

  @Test
  void conflictWithScaleNamesTheManagerTheSubresourceAndTheField() {
    JsonObject live = applied();
    JsonObject scaled = live.copy();
    scaled.getJsonObject("spec").put("replicas", 5);
    scaled = with(scaled, ManagedFields.update(ctx(DEPLOYMENTS, "kubectl-scale", "scale", T1), live, scaled,
        ManagedFields.fromRequest(null, live, "scale")));
    assertEquals("scale", entry(scaled, "kubectl-scale", "Update").getString("subresource"));
    assertEquals(new JsonObject("{\"f:spec\":{\"f:replicas\":{}}}"),
        entry(scaled, "kubectl-scale", "Update").getJsonObject("fieldsV1"));
    assertFalse(entry(scaled, "kubectl", "Apply").getJsonObject("fieldsV1").getJsonObject("f:spec")
        .containsKey("f:replicas"));

    ManagedFields.Context kubectl = ctx(DEPLOYMENTS, "kubectl", null, T1);
    JsonObject merged = ManagedFields.merge(kubectl, scaled, CONFIG);
    assertEquals(2, merged.getJsonObject("spec").getInteger("replicas"));
    JsonObject live2 = scaled;
    ApiError e = assertThrows(ApiError.class, () -> ManagedFields.apply(kubectl, live2, merged, CONFIG, false));
    assertEquals(409, e.code());
    assertEquals("Apply failed with 1 conflict: conflict with \"kubectl-scale\" with subresource \"scale\" using "
        + "apps/v1: .spec.replicas", e.getMessage());
    assertEquals(List.of(new ApiError.Cause(".spec.replicas", "FieldManagerConflict",
        "conflict with \"kubectl-scale\" with subresource \"scale\" using apps/v1")), e.causes());

    // --force-conflicts: the applier takes the field, the scaler's now empty entry goes.
    JsonObject forced = with(merged, ManagedFields.apply(kubectl, scaled, merged, CONFIG, true));
    assertNull(entry(forced, "kubectl-scale", "Update"));
    assertTrue(entry(forced, "kubectl", "Apply").getJsonObject("fieldsV1").getJsonObject("f:spec")
        .containsKey("f:replicas"));
  }

  @Test
  void reapplyingTheSameConfigurationChangesNothing() {
    JsonObject live = applied();
    ManagedFields.Context later = ctx(DEPLOYMENTS, "kubectl", null, T1);
    JsonObject merged = ManagedFields.merge(later, live, CONFIG);
    Meta.meta(merged).put("managedFields", ManagedFields.apply(later, live, merged, CONFIG, false));
    assertEquals(live, merged);
  }

  @Test
  void severalConflictsAreGroupedByManager() {
    JsonObject live = applied();
    JsonObject other = new JsonObject("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"api"}},
         "spec":{"replicas":9}}""");
    ManagedFields.Context ctx = ctx(DEPLOYMENTS, "other", null, T1);
    JsonObject merged = ManagedFields.merge(ctx, live, other);
    ApiError e = assertThrows(ApiError.class, () -> ManagedFields.apply(ctx, live, merged, other, false));
    assertEquals("Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .metadata.labels.app\n"
        + "- .spec.replicas", e.getMessage());
    assertEquals(List.of(".metadata.labels.app", ".spec.replicas"),
        e.causes().stream().map(ApiError.Cause::field).toList());
  }

  @Test
  void theSameValueFromTwoAppliersIsSharedAndSurvivesOneLettingGo() {
    JsonObject live = applied();
    JsonObject other = new JsonObject("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2}}""");
    ManagedFields.Context ctx = ctx(DEPLOYMENTS, "ci", null, T1);
    JsonObject shared = with(ManagedFields.merge(ctx, live, other), ManagedFields.apply(ctx, live,
        ManagedFields.merge(ctx, live, other), other, false));
    assertTrue(entry(shared, "kubectl", "Apply").getJsonObject("fieldsV1").getJsonObject("f:spec")
        .containsKey("f:replicas"));
    assertEquals(new JsonObject("{\"f:spec\":{\"f:replicas\":{}}}"),
        entry(shared, "ci", "Apply").getJsonObject("fieldsV1"));

    // kubectl stops applying replicas: ci still owns it, so the value stays.
    JsonObject noReplicas = CONFIG.copy();
    noReplicas.getJsonObject("spec").remove("replicas");
    JsonObject kept = ManagedFields.merge(ctx(DEPLOYMENTS, "kubectl", null, T1), shared, noReplicas);
    assertEquals(2, kept.getJsonObject("spec").getInteger("replicas"));
  }

  @Test
  void applyRemovesWhatTheManagerNoLongerAppliesButNotWhatOthersOwn() {
    JsonObject config = CONFIG.copy();
    Meta.meta(config).getJsonObject("labels").put("tier", "front");
    ManagedFields.Context kubectl = ctx(DEPLOYMENTS, "kubectl", null, T0);
    JsonObject live = with(config, ManagedFields.apply(kubectl, new JsonObject(), config, config, false));
    // Someone else adds a label and an annotation with a plain update.
    JsonObject edited = live.copy();
    Meta.meta(edited).getJsonObject("labels").put("team", "a");
    Meta.meta(edited).put("annotations", new JsonObject().put("note", "x"));
    edited = with(edited, ManagedFields.update(ctx(DEPLOYMENTS, "kubectl-edit", null, T1), live, edited,
        ManagedFields.fromRequest(null, live, null)));

    JsonObject merged = ManagedFields.merge(kubectl, edited, CONFIG);
    assertEquals(new JsonObject().put("app", "web").put("team", "a"), Meta.meta(merged).getJsonObject("labels"));
    assertEquals("x", Meta.meta(merged).getJsonObject("annotations").getString("note"));
    assertEquals("web", Meta.meta(merged).getString("name"));

    // Dropping a container drops it; dropping a field of a kept container drops just that field.
    JsonObject two = CONFIG.copy();
    two.getJsonObject("spec").getJsonObject("template").getJsonObject("spec").getJsonArray("containers")
        .add(new JsonObject().put("name", "side").put("image", "busybox").put("args", new JsonArray().add("sleep")));
    JsonObject live2 = with(two, ManagedFields.apply(kubectl, new JsonObject(), two, two, false));
    JsonObject one = CONFIG.copy();
    JsonObject webOnly = ManagedFields.merge(kubectl, live2, one);
    JsonArray cs = webOnly.getJsonObject("spec").getJsonObject("template").getJsonObject("spec")
        .getJsonArray("containers");
    assertEquals(1, cs.size());
    assertEquals("web", cs.getJsonObject(0).getString("name"));
  }

  private record MergeCase(String name, ResourceType type, String live, String config, String expected) {}

  @Test
  void mergeFollowsListAndMapSemantics() {
    List<MergeCase> table = List.of(
        new MergeCase("containers merge by name, defaults kept", DEPLOYMENTS, """
            {"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1","imagePullPolicy":"Always"},
              {"name":"side","image":"busybox"}]}}}}""", """
            {"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}""", """
            {"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2","imagePullPolicy":"Always"},
              {"name":"side","image":"busybox"}]}}}}"""),
        new MergeCase("new items follow the config's order", DEPLOYMENTS, """
            {"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"c"}]}}}}""", """
            {"spec":{"template":{"spec":{"containers":[{"name":"b"},{"name":"c"},{"name":"d"}]}}}}""", """
            {"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"}]}}}}"""),
        new MergeCase("ports key on port and its defaulted protocol", DEPLOYMENTS, """
            {"spec":{"template":{"spec":{"containers":[{"name":"w","ports":[{"containerPort":80,"protocol":"TCP",
              "name":"http"}]}]}}}}""", """
            {"spec":{"template":{"spec":{"containers":[{"name":"w","ports":[{"containerPort":80,"hostPort":8080}]}]}}}}""",
            """
            {"spec":{"template":{"spec":{"containers":[{"name":"w","ports":[{"containerPort":80,"protocol":"TCP",
              "name":"http","hostPort":8080}]}]}}}}"""),
        new MergeCase("atomic lists are replaced", DEPLOYMENTS, """
            {"spec":{"template":{"spec":{"containers":[{"name":"w","args":["a","b"]}]}}}}""", """
            {"spec":{"template":{"spec":{"containers":[{"name":"w","args":["c"]}]}}}}""", """
            {"spec":{"template":{"spec":{"containers":[{"name":"w","args":["c"]}]}}}}"""),
        new MergeCase("atomic maps are replaced", DEPLOYMENTS, """
            {"spec":{"selector":{"matchLabels":{"a":"1","b":"2"}}}}""", """
            {"spec":{"selector":{"matchLabels":{"a":"1"}}}}""", """
            {"spec":{"selector":{"matchLabels":{"a":"1"}}}}"""),
        new MergeCase("sets are unions", CONFIGMAPS, """
            {"metadata":{"finalizers":["a"],"labels":{"x":"1"}}}""", """
            {"metadata":{"finalizers":["b","a"],"labels":{"y":"2"}}}""", """
            {"metadata":{"finalizers":["b","a"],"labels":{"x":"1","y":"2"}}}"""),
        new MergeCase("null removes", CONFIGMAPS, """
            {"data":{"a":"1","b":"2"}}""", """
            {"data":{"a":null}}""", """
            {"data":{"b":"2"}}"""),
        new MergeCase("service ports key on port and protocol; the allocated clusterIP stays",
            Resources.builtIn("", "services"), """
            {"spec":{"clusterIP":"10.96.0.9","ports":[{"port":80,"protocol":"TCP","targetPort":8080},
              {"port":53,"protocol":"UDP"}]}}""", """
            {"spec":{"ports":[{"port":80,"targetPort":9090},{"port":53,"protocol":"TCP"}]}}""", """
            {"spec":{"clusterIP":"10.96.0.9","ports":[{"port":80,"protocol":"TCP","targetPort":9090},
              {"port":53,"protocol":"UDP"},{"port":53,"protocol":"TCP"}]}}"""),
        new MergeCase("custom list-map keys", crd(), """
            {"spec":{"routes":[{"host":"a","port":1,"w":1},{"host":"b","port":1}],"tags":["x"]}}""", """
            {"spec":{"routes":[{"host":"a","port":1,"w":2}],"tags":["y"]}}""", """
            {"spec":{"routes":[{"host":"a","port":1,"w":2},{"host":"b","port":1}],"tags":["y"]}}"""));
    for (MergeCase t : table) {
      assertEquals(new JsonObject(t.expected()), ManagedFields.mergeObjects(t.type(), new JsonObject(t.live()),
          new JsonObject(t.config())), t.name());
    }
  }

  private static ResourceType crd() {
    JsonObject schema = new JsonObject("""
        {"type":"object","properties":{"spec":{"type":"object","properties":{
          "routes":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["host","port"],
            "items":{"type":"object","properties":{"host":{"type":"string"},"port":{"type":"integer"},
              "w":{"type":"integer"}}}},
          "tags":{"type":"array","items":{"type":"string"}}}}}}""");
    JsonObject version = new JsonObject().put("name", "v1").put("schema", new JsonObject().put("openAPIV3Schema",
        schema));
    return new ResourceType("stable.example.com", "v1", "Router", "routers", true, List.of(), Set.of("status"),
        List.of(), null, version);
  }

  @Test
  void customResourcesOwnListItemsByTheirKeys() {
    JsonObject cr = new JsonObject("""
        {"apiVersion":"stable.example.com/v1","kind":"Router","metadata":{"name":"r"},
         "spec":{"routes":[{"host":"a","port":1}]},"status":{"ok":true}}""");
    JsonArray managed = ManagedFields.apply(ctx(crd(), "me", null, T0), new JsonObject(), cr, cr, false);
    assertEquals(new JsonObject("""
        {"f:spec":{"f:routes":{"k:{\\"host\\":\\"a\\",\\"port\\":1}":{".":{},"f:host":{},"f:port":{}}}}}"""),
        managed.getJsonObject(0).getJsonObject("fieldsV1"));
  }

  @Test
  void aCustomScaleOwnsItsReplicasPath() {
    JsonObject version = new JsonObject().put("name", "v1").put("subresources", new JsonObject().put("scale",
        new JsonObject().put("specReplicasPath", ".spec.size")));
    ResourceType type = new ResourceType("stable.example.com", "v1", "Pool", "pools", true, List.of(),
        Set.of("scale"), List.of(), null, version);
    JsonObject live = new JsonObject("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"size\":1,\"other\":1}}");
    JsonObject next = live.copy();
    next.getJsonObject("spec").put("size", 4);
    JsonArray managed = ManagedFields.update(ctx(type, "kubectl", "scale", T1), live, next, List.of());
    assertEquals(new JsonObject("{\"f:spec\":{\"f:size\":{}}}"), managed.getJsonObject(0).getJsonObject("fieldsV1"));
  }

  @Test
  void statusIsOwnedThroughStatusOnly() {
    JsonObject live = applied();
    JsonObject next = live.copy().put("status", new JsonObject().put("replicas", 2));
    JsonArray main = ManagedFields.update(ctx(DEPLOYMENTS, "x", null, T1), live, next,
        ManagedFields.fromRequest(null, live, null));
    assertEquals(Meta.meta(live).getJsonArray("managedFields"), main);
    JsonArray status = ManagedFields.update(ctx(DEPLOYMENTS, "kvx", "status", T1), live, next,
        ManagedFields.fromRequest(null, live, "status"));
    JsonObject e = entry(with(next, status), "kvx", "Update");
    assertEquals("status", e.getString("subresource"));
    assertEquals(new JsonObject("{\"f:status\":{\"f:replicas\":{}}}"), e.getJsonObject("fieldsV1"));
  }

  @Test
  void entriesMergeByManagerAndOperationAndUpdatesAreCapped() {
    JsonObject live = CONFIG.copy();
    for (int i = 0; i < 5; i++) {
      JsonObject next = live.copy();
      next.getJsonObject("spec").put("replicas", i + 3);
      live = with(next, ManagedFields.update(ctx(DEPLOYMENTS, "hpa", null, T0), live, next,
          ManagedFields.fromRequest(null, live, null)));
    }
    assertEquals(1, Meta.meta(live).getJsonArray("managedFields").size());
    for (int i = 0; i < 14; i++) {
      JsonObject next = live.copy();
      Meta.meta(next).getJsonObject("labels").put("l" + i, "v");
      live = with(next, ManagedFields.update(ctx(DEPLOYMENTS, "m" + i, null, String.format(
          "2026-11-23T10:00:%02dZ", i + 10)), live, next, ManagedFields.fromRequest(null, live, null)));
    }
    JsonArray managed = Meta.meta(live).getJsonArray("managedFields");
    assertEquals(ManagedFields.MAX_UPDATE_MANAGERS, managed.size());
    JsonObject ancient = entry(live, ManagedFields.ANCIENT_CHANGES, "Update");
    assertTrue(ancient.getJsonObject("fieldsV1").getJsonObject("f:spec").containsKey("f:replicas"), ancient.encode());
    assertNull(entry(live, "m0", "Update"));
    assertTrue(entry(live, "m13", "Update") != null);
  }

  private record RequestCase(String name, Object requested, String subresource, int expectedEntries) {}

  @Test
  void requestManagedFieldsReplaceResetOrAreIgnored() {
    JsonObject live = applied();
    JsonArray custom = new JsonArray().add(new JsonObject().put("manager", "a").put("operation", "Update")
        .put("apiVersion", "apps/v1").put("fieldsType", "FieldsV1").put("fieldsV1", new JsonObject("{\"f:spec\":{}}")))
        .add(new JsonObject().put("manager", "b").put("operation", "Apply").put("apiVersion", "apps/v1")
            .put("fieldsType", "FieldsV1").put("fieldsV1", new JsonObject("{\"f:spec\":{}}")));
    List<RequestCase> table = List.of(
        new RequestCase("absent keeps live", null, null, 1),
        new RequestCase("empty list resets", new JsonArray(), null, 0),
        new RequestCase("one empty entry resets", new JsonArray().add(new JsonObject()), null, 0),
        new RequestCase("given entries replace", custom, null, 2),
        new RequestCase("undecodable keeps live", new JsonArray().add(new JsonObject().put("operation", "Bad")), null,
            1),
        new RequestCase("a subresource keeps live", new JsonArray(), "status", 1));
    for (RequestCase t : table) {
      assertEquals(t.expectedEntries(), ManagedFields.fromRequest(t.requested(), live, t.subresource()).size(),
          t.name());
    }
  }

  @Test
  void defaultManagerComesFromTheUserAgent() {
    Map<String, String> table = new java.util.LinkedHashMap<>();
    table.put("kubectl/v1.35.2 (linux/amd64) kubernetes/66452c3", "kubectl");
    table.put("Go-http-client/2.0", "Go-http-client");
    table.put("helm", "helm");
    table.put("a\u0001b/1", "ab");
    table.put("x".repeat(200), "x".repeat(128));
    table.forEach((ua, want) -> assertEquals(want, ManagedFields.managerFromUserAgent(ua), ua));
    assertEquals("", ManagedFields.managerFromUserAgent(null));
    assertNull(ManagedFields.invalidManager("kubectl-edit"));
    assertTrue(ManagedFields.invalidManager("x".repeat(129)).startsWith("Too long"));
    assertTrue(ManagedFields.invalidManager("a\nb").contains("invalid character"));
  }

  @Test
  void kubectlMayTakeOverFieldsClientSideApplySetToTheLastAppliedValues() {
    JsonObject lastApplied = CONFIG.copy();
    JsonObject live = CONFIG.copy();
    Meta.meta(live).put("annotations", new JsonObject().put(ManagedFields.LAST_APPLIED, lastApplied.encode()));
    live = with(live, ManagedFields.update(ctx(DEPLOYMENTS, "kubectl-client-side-apply", null, T0),
        new JsonObject().put("metadata", new JsonObject()).put("spec", new JsonObject()), live, List.of()));
    JsonObject config = CONFIG.copy();
    config.getJsonObject("spec").put("replicas", 3);
    ManagedFields.Context kubectl = ctx(DEPLOYMENTS, "kubectl", null, T1);
    JsonObject merged = ManagedFields.merge(kubectl, live, config);
    JsonObject after = with(merged, ManagedFields.apply(kubectl, live, merged, config, false));
    assertTrue(entry(after, "kubectl", "Apply").getJsonObject("fieldsV1").getJsonObject("f:spec")
        .containsKey("f:replicas"));
    ManagedFields.syncLastApplied(kubectl, live, merged, config);
    assertEquals(3, new JsonObject(Meta.meta(merged).getJsonObject("annotations")
        .getString(ManagedFields.LAST_APPLIED)).getJsonObject("spec").getInteger("replicas"));

    // Another manager gets no such pass.
    ManagedFields.Context other = ctx(DEPLOYMENTS, "other", null, T1);
    JsonObject live2 = live;
    assertThrows(ApiError.class, () -> ManagedFields.apply(other, live2, ManagedFields.merge(other, live2, config),
        config, false));
  }
}
