package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ProxyRoutesTest {

  private static final JsonObject POD = new JsonObject("""
      {"metadata":{"name":"web"},"status":{"podIP":"10.42.0.7"},
       "spec":{"containers":[{"name":"a"},{"name":"b","ports":[{"name":"http","containerPort":8080},{"containerPort":9090}]}]}}
      """);
  private static final JsonObject SVC = new JsonObject("""
      {"metadata":{"name":"web"},"spec":{"ports":[{"name":"http","port":80},{"name":"metrics","port":9100}]}}
      """);
  private static final JsonObject EPS = new JsonObject("""
      {"subsets":[{"addresses":[{"ip":"10.42.0.7"},{"ip":"10.42.0.8"}],"notReadyAddresses":[{"ip":"10.42.0.9"}],
        "ports":[{"name":"http","port":8080},{"name":"metrics","port":9101}]}]}
      """);

  @Test
  void idsSplitAsKubernetesDoes() {
    assertArrayEquals(new String[] {"", "web", ""}, ProxyRoutes.splitSchemeNamePort("web"));
    assertArrayEquals(new String[] {"", "web", "8080"}, ProxyRoutes.splitSchemeNamePort("web:8080"));
    assertArrayEquals(new String[] {"https", "web", "http"}, ProxyRoutes.splitSchemeNamePort("https:web:http"));
    assertThrows(ApiError.class, () -> ProxyRoutes.splitSchemeNamePort("a:b:c:d"));
  }

  @Test
  void aPodIsReachedOnTheAskedPortItsNamedPortOrItsFirstDeclaredPort() {
    assertEquals(new ProxyRoutes.Target(false, "10.42.0.7", 8080), ProxyRoutes.podTarget(POD, "", ""));
    assertEquals(new ProxyRoutes.Target(false, "10.42.0.7", 9090), ProxyRoutes.podTarget(POD, "", "9090"));
    assertEquals(new ProxyRoutes.Target(true, "10.42.0.7", 8080), ProxyRoutes.podTarget(POD, "https", "http"));
    assertThrows(ApiError.class, () -> ProxyRoutes.podTarget(POD, "", "nope"));
    ApiError noIp = assertThrows(ApiError.class, () -> ProxyRoutes.podTarget(new JsonObject(POD.encode())
        .put("status", new JsonObject()), "", ""));
    assertEquals(503, noIp.reason().code);
  }

  @Test
  void aServiceIsReachedThroughOneReadyEndpointOfThePortNamedOrNumbered() {
    assertEquals(new ProxyRoutes.Target(false, "10.42.0.8", 8080),
        ProxyRoutes.serviceTarget(SVC, EPS, "", "http", n -> n - 1));
    assertEquals(new ProxyRoutes.Target(false, "10.42.0.7", 9101),
        ProxyRoutes.serviceTarget(SVC, EPS, "", "9100", n -> 0));
    assertEquals(new ProxyRoutes.Target(false, "10.42.0.7", 8080), ProxyRoutes.serviceTarget(SVC, EPS, "", "", n -> 0));
    assertThrows(ApiError.class, () -> ProxyRoutes.serviceTarget(SVC, EPS, "", "grpc", n -> 0));
    ApiError none = assertThrows(ApiError.class, () -> ProxyRoutes.serviceTarget(SVC, new JsonObject(), "", "", n -> 0));
    assertEquals(503, none.reason().code);
    assertEquals("no endpoints available for service \"web\"", none.getMessage());
  }

  @Test
  void theSummaryAddsUpContainersPerPod() {
    JsonObject stats = new JsonObject("""
        {"node":{"cpu":250000000,"memory":1048576},
         "pods":[{"namespace":"default","name":"web","containers":[{"name":"a","cpu":1000,"memory":10},
                                                                   {"name":"b","cpu":500,"memory":5}]}]}
        """);
    JsonObject s = ProxyRoutes.summary("n1", stats, "2026-11-24T05:00:00Z");
    assertEquals("n1", s.getJsonObject("node").getString("nodeName"));
    assertEquals(250000000L, s.getJsonObject("node").getJsonObject("cpu").getLong("usageNanoCores"));
    JsonObject pod = s.getJsonArray("pods").getJsonObject(0);
    assertEquals("web", pod.getJsonObject("podRef").getString("name"));
    assertEquals(1500L, pod.getJsonObject("cpu").getLong("usageNanoCores"));
    assertEquals(15L, pod.getJsonObject("memory").getLong("workingSetBytes"));
    assertEquals(5L, pod.getJsonArray("containers").getJsonObject(1).getJsonObject("memory").getLong("workingSetBytes"));
  }
}
