package io.kvx.controller.endpoints;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EndpointsReconcilerTest {

  static JsonObject service(boolean publishNotReady) {
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "shop").put("name", "web"))
        .put("spec", new JsonObject().put("publishNotReadyAddresses", publishNotReady).put("ports", new JsonArray()
            .add(new JsonObject().put("name", "http").put("port", 80).put("targetPort", "web"))
            .add(new JsonObject().put("name", "dns").put("port", 53).put("protocol", "UDP").put("targetPort", 5353))));
  }

  static JsonObject pod(String name, String ip, int webPort, boolean ready) {
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "shop").put("name", name).put("uid", name))
        .put("spec", new JsonObject().put("nodeName", "n1").put("containers", new JsonArray().add(new JsonObject()
            .put("name", "c").put("ports", new JsonArray().add(new JsonObject().put("name", "web")
                .put("containerPort", webPort))))))
        .put("status", new JsonObject().put("phase", "Running").put("podIP", ip).put("conditions", new JsonArray()
            .add(new JsonObject().put("type", "Ready").put("status", ready ? "True" : "False"))));
  }

  static List<String> ips(JsonObject slice) {
    return slice.getJsonArray("endpoints").stream()
        .map(e -> ((JsonObject) e).getJsonArray("addresses").getString(0)).toList();
  }

  static List<Boolean> ready(JsonObject slice) {
    return slice.getJsonArray("endpoints").stream()
        .map(e -> ((JsonObject) e).getJsonObject("conditions").getBoolean("ready")).toList();
  }

  @Test
  void podsUnderTheServiceAsSubdomainCarryTheirHostname() {
    JsonObject member = pod("web-0", "10.42.0.5", 8080, true);
    member.getJsonObject("spec").put("hostname", "web-0").put("subdomain", "web");
    JsonObject other = pod("x", "10.42.0.6", 8080, true);
    other.getJsonObject("spec").put("hostname", "x").put("subdomain", "elsewhere");
    List<JsonObject> slices = EndpointsReconciler.desiredSlices(service(false), List.of(member, other));
    JsonArray eps = slices.get(0).getJsonArray("endpoints");
    assertEquals("web-0", eps.getJsonObject(0).getString("hostname"));
    assertEquals(null, eps.getJsonObject(1).getString("hostname"));
    JsonArray addresses = EndpointsReconciler.subsets(service(false), List.of(member, other)).getJsonObject(0)
        .getJsonArray("addresses");
    assertEquals("web-0", addresses.getJsonObject(0).getString("hostname"));
    assertEquals(null, addresses.getJsonObject(1).getString("hostname"));
  }

  @Test
  void namedTargetPortsSplitSlicesByResolvedPorts() {
    List<JsonObject> slices = EndpointsReconciler.desiredSlices(service(false), List.of(
        pod("a", "10.42.0.5", 8080, true), pod("b", "10.42.0.6", 9090, true), pod("c", "10.42.0.7", 8080, false)));
    assertEquals(2, slices.size());
    assertEquals(List.of("10.42.0.5", "10.42.0.7"), ips(slices.get(0)));
    assertEquals(List.of(true, false), ready(slices.get(0)));
    assertEquals(new JsonArray().add(new JsonObject().put("port", 8080).put("protocol", "TCP").put("name", "http"))
        .add(new JsonObject().put("port", 5353).put("protocol", "UDP").put("name", "dns")),
        slices.get(0).getJsonArray("ports"));
    assertEquals(List.of("10.42.0.6"), ips(slices.get(1)));
    assertEquals(9090, slices.get(1).getJsonArray("ports").getJsonObject(0).getInteger("port"));
  }

  @Test
  void anUnnamedPortIsNamedEmptyInSlicesAndLeftOutInEndpoints() {
    JsonObject svc = new JsonObject().put("metadata", new JsonObject().put("namespace", "shop").put("name", "web"))
        .put("spec", new JsonObject().put("ports", new JsonArray().add(new JsonObject().put("port", 80)
            .put("targetPort", 8080))));
    List<JsonObject> pods = List.of(pod("a", "10.42.0.5", 8080, true));
    assertEquals(new JsonArray().add(new JsonObject().put("port", 8080).put("protocol", "TCP").put("name", "")),
        EndpointsReconciler.desiredSlices(svc, pods).get(0).getJsonArray("ports"));
    assertEquals(new JsonArray().add(new JsonObject().put("port", 8080).put("protocol", "TCP")),
        EndpointsReconciler.subsets(svc, pods).getJsonObject(0).getJsonArray("ports"));
  }

  @Test
  void publishNotReadyAddressesMakesEveryPodReady() {
    List<JsonObject> slices = EndpointsReconciler.desiredSlices(service(true), List.of(
        pod("a", "10.42.0.5", 8080, true), pod("c", "10.42.0.7", 8080, false)));
    assertEquals(List.of(true, true), ready(slices.get(0)));
    JsonArray subsets = EndpointsReconciler.subsets(service(true), List.of(pod("c", "10.42.0.7", 8080, false)));
    assertEquals(1, subsets.getJsonObject(0).getJsonArray("addresses").size());
  }

  @Test
  void manySelectedPodsMakeSlicesOfAHundred() {
    List<JsonObject> pods = new java.util.ArrayList<>();
    for (int i = 0; i < 250; i++) pods.add(pod(String.format("p%03d", i), "10.42.1." + i, 8080, true));
    assertEquals(List.of(100, 100, 50), EndpointsReconciler.desiredSlices(service(false), pods).stream()
        .map(s -> s.getJsonArray("endpoints").size()).toList());
  }

  @Test
  void handWrittenEndpointsAreMirroredPerSubset() {
    JsonObject eps = new JsonObject("""
        {"metadata":{"namespace":"shop","name":"ext"},"subsets":[
          {"addresses":[{"ip":"10.75.9.1"},{"ip":"fd00::1"}],"notReadyAddresses":[{"ip":"10.75.9.2"}],
           "ports":[{"name":"http","port":8080}]},
          {"addresses":[{"ip":"10.75.9.3"}],"ports":[{"port":53,"protocol":"UDP"}]}]}""");
    List<JsonObject> slices = EndpointsReconciler.mirroredSlices(eps);
    assertEquals(2, slices.size());
    assertEquals(List.of("10.75.9.1", "10.75.9.2"), ips(slices.get(0)));
    assertEquals(List.of(true, false), ready(slices.get(0)));
    assertEquals(new JsonArray().add(new JsonObject().put("port", 8080).put("protocol", "TCP").put("name", "http")),
        slices.get(0).getJsonArray("ports"));
    assertEquals(new JsonArray().add(new JsonObject().put("port", 53).put("protocol", "UDP").put("name", "")),
        slices.get(1).getJsonArray("ports"));
    assertEquals(List.of(), EndpointsReconciler.mirroredSlices(null));
  }
}
