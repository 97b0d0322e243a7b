package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PatchesTest {

  private static final JsonObject DEPLOY = new JsonObject("""
      {"metadata":{"name":"d","labels":{"a":"1","b":"2"}},
       "spec":{"containers":[{"name":"web","image":"nginx:1"},{"name":"side","image":"busybox"}]}}""");

  @Test
  void patchTypeIsTheMediaTypeWithoutParametersAndOthersAre415() {
    assertEquals("application/json-patch+json", Patches.patchType("application/json-patch+json; charset=utf-8", false));
    assertEquals("application/merge-patch+json", Patches.patchType("Application/Merge-Patch+JSON", true));
    assertEquals("application/strategic-merge-patch+json",
        Patches.patchType("application/strategic-merge-patch+json", false));
    // what client-java's CustomObjectsApi and GenericKubernetesApi.updateStatus send
    ApiError json = assertThrows(ApiError.class, () -> Patches.patchType("application/json; charset=utf-8", true));
    assertEquals(415, json.code());
    assertEquals(415, assertThrows(ApiError.class, () -> Patches.patchType(null, false)).code());
    ApiError strategicCustom = assertThrows(ApiError.class,
        () -> Patches.patchType("application/strategic-merge-patch+json", true));
    assertEquals(415, strategicCustom.code());
    assertFalse(strategicCustom.getMessage().contains("strategic"));
  }

  @Test
  void mergePatchRemovesNullsAndReplacesLists() {
    JsonObject out = Patches.mergePatch(DEPLOY, new JsonObject("""
        {"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}"""));
    assertEquals(new JsonObject().put("b", "2").put("c", "3"), out.getJsonObject("metadata").getJsonObject("labels"));
    assertEquals(1, out.getJsonObject("spec").getJsonArray("containers").size());
  }

  @Test
  void strategicMergePatchMergesNamedListItems() {
    JsonObject out = Patches.strategicMergePatch(DEPLOY, new JsonObject("""
        {"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}"""));
    JsonArray cs = out.getJsonObject("spec").getJsonArray("containers");
    assertEquals(2, cs.size());
    assertEquals("nginx:2", cs.getJsonObject(0).getString("image"));
    assertEquals("busybox", cs.getJsonObject(1).getString("image"));
  }

  @Test
  void strategicReplaceDirectiveReplacesTheWholeObject() {
    JsonObject out = Patches.strategicMergePatch(DEPLOY, new JsonObject("""
        {"spec":{"$patch":"replace","containers":[{"name":"web","image":"nginx:1"}]}}"""));
    assertEquals(new JsonObject("{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1\"}]}"),
        out.getJsonObject("spec"));
    assertEquals("d", out.getJsonObject("metadata").getString("name"));
  }

  @Test
  void jsonPatchAppliesInOrderAndTestFails() {
    JsonObject out = Patches.jsonPatch(DEPLOY, new JsonArray("""
        [{"op":"replace","path":"/spec/containers/0/image","value":"nginx:3"},
         {"op":"remove","path":"/metadata/labels/a"},
         {"op":"add","path":"/spec/containers/-","value":{"name":"x","image":"y"}}]"""));
    assertEquals("nginx:3", out.getJsonObject("spec").getJsonArray("containers").getJsonObject(0).getString("image"));
    assertFalse(out.getJsonObject("metadata").getJsonObject("labels").containsKey("a"));
    assertEquals(3, out.getJsonObject("spec").getJsonArray("containers").size());
    ApiError e = assertThrows(ApiError.class, () -> Patches.jsonPatch(DEPLOY, new JsonArray(
        "[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"other\"}]")));
    assertEquals(422, e.code());
    assertThrows(ApiError.class, () -> Patches.jsonPatch(DEPLOY, new JsonArray(
        "[{\"op\":\"replace\",\"path\":\"/spec/nothing/here\",\"value\":1}]")));
  }

  private static final String SMP = "application/strategic-merge-patch+json";

  @Test
  void setElementOrderOrdersTheMergedList() {
    ResourceType pods = Resources.PODS;
    JsonObject pod = new JsonObject("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[
          {"name":"a","image":"busybox"},{"name":"b","image":"busybox"}]}}""");
    // kubectl apply adding container c first: the directive lists the new order, the list carries the new one.
    JsonObject patched = Patches.apply(SMP, pods, pod, new JsonObject("""
        {"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"},{"name":"b"}],
          "containers":[{"name":"c","image":"busybox"}]}}"""));
    assertEquals(List.of("c", "a", "b"), patched.getJsonObject("spec").getJsonArray("containers").stream()
        .map(o -> ((JsonObject) o).getString("name")).toList());
  }

  @Test
  void strategicPatchesFollowTheKindsPatchStrategies() {
    ResourceType deployments = Resources.builtIn("apps", "deployments");
    JsonObject d = new JsonObject("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","finalizers":["a"]},
         "spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
          "template":{"spec":{"tolerations":[{"key":"x","operator":"Exists"}],
           "containers":[{"name":"c","image":"busybox","command":["sleep","1"],
             "env":[{"name":"A","value":"1"}],"ports":[{"name":"web","containerPort":80}]}]}}}}""");
    // kubectl apply's patch when the strategy type changes: only the retained keys stay.
    JsonObject recreate = Patches.apply(SMP, deployments, d,
        new JsonObject("{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}"));
    assertEquals(new JsonObject().put("type", "Recreate"), recreate.getJsonObject("spec").getJsonObject("strategy"));
    // env merges by name, ports by containerPort, command and tolerations are replaced, finalizers unite.
    JsonObject patched = Patches.apply(SMP, deployments, d, new JsonObject("""
        {"metadata":{"finalizers":["b"]},
         "spec":{"template":{"spec":{"tolerations":[{"key":"y","operator":"Exists"}],
          "containers":[{"name":"c","command":["sleep","2"],"env":[{"name":"B","value":"2"}],
            "ports":[{"containerPort":80,"protocol":"TCP"}]}]}}}}"""));
    JsonObject c = patched.getJsonObject("spec").getJsonObject("template").getJsonObject("spec")
        .getJsonArray("containers").getJsonObject(0);
    assertEquals(new JsonArray().add("sleep").add("2"), c.getJsonArray("command"));
    assertEquals(2, c.getJsonArray("env").size());
    assertEquals(new JsonArray().add(new JsonObject().put("name", "web").put("containerPort", 80).put("protocol", "TCP")),
        c.getJsonArray("ports"));
    assertEquals(new JsonArray().add(new JsonObject().put("key", "y").put("operator", "Exists")),
        patched.getJsonObject("spec").getJsonObject("template").getJsonObject("spec").getJsonArray("tolerations"));
    assertEquals(new JsonArray().add("a").add("b"), patched.getJsonObject("metadata").getJsonArray("finalizers"));
    JsonObject removed = Patches.apply(SMP, deployments, patched,
        new JsonObject("{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}"));
    assertEquals(new JsonArray().add("b"), removed.getJsonObject("metadata").getJsonArray("finalizers"));
  }

  @Test
  void aServicesPortsMergeByPort() {
    JsonObject svc = new JsonObject("""
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},
         "spec":{"type":"ClusterIP","ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}]}}""");
    JsonObject patched = Patches.apply(SMP, Resources.builtIn("", "services"), svc,
        new JsonObject("{\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30080}]}}"));
    assertEquals(new JsonArray().add(new JsonObject().put("name", "http").put("port", 80).put("targetPort", 8080)
        .put("protocol", "TCP").put("nodePort", 30080)), patched.getJsonObject("spec").getJsonArray("ports"));
  }
}
