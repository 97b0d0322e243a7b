package io.kvx.node.network;

import io.kvx.node.network.PodCidrRoutes.Route;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodCidrRoutesTest {

  private static JsonObject node(String name, String ip, String... cidrs) {
    JsonObject spec = new JsonObject();
    if (cidrs.length > 0) spec.put("podCIDR", cidrs[0]).put("podCIDRs", new JsonArray(List.of((Object[]) cidrs)));
    JsonArray addresses = new JsonArray().add(new JsonObject().put("type", "Hostname").put("address", name));
    if (ip != null) addresses.add(new JsonObject().put("type", "InternalIP").put("address", ip));
    return new JsonObject().put("metadata", new JsonObject().put("name", name)).put("spec", spec)
        .put("status", new JsonObject().put("addresses", addresses));
  }

  @Test
  void oneRoutePerOtherNodeThroughItsInternalIp() {
    Set<Route> routes = PodCidrRoutes.desired("a", "10.174.0.11", List.of(
        node("a", "10.174.0.11", "10.74.0.0/24"),
        node("b", "10.174.0.12", "10.74.1.0/24"),
        node("c", "10.174.0.13", "10.74.2.0/24")));
    assertEquals(Set.of(new Route("10.74.1.0/24", "10.174.0.12"), new Route("10.74.2.0/24", "10.174.0.13")), routes);
  }

  @Test
  void nodesWithoutACidrOrAnAddressOrOnThisAddressOrLoopbackGetNone() {
    Set<Route> routes = PodCidrRoutes.desired("a", "10.174.0.11", List.of(
        node("a", "10.174.0.11", "10.74.0.0/24"),
        node("no-cidr", "10.174.0.12"),
        node("no-ip", null, "10.74.2.0/24"),
        node("same-ip", "10.174.0.11", "10.74.3.0/24"),
        node("loopback", "127.0.0.1", "10.74.4.0/24"),
        node("v6", "fd00::1", "10.74.5.0/24"),
        node("v6-cidr", "10.174.0.16", "fd00:10::/64")));
    assertTrue(routes.isEmpty(), routes.toString());
  }

  @Test
  void cidrsOverlappingThisNodesOrClaimedTwiceAreRoutedOnce() {
    Set<Route> routes = PodCidrRoutes.desired("a", "10.174.0.11", List.of(
        node("a", "10.174.0.11", "10.74.0.0/24"),
        node("overlaps-mine", "10.174.0.12", "10.74.0.0/23"),
        node("z-dup", "10.174.0.14", "10.74.5.0/24"),
        node("b-dup", "10.174.0.13", "10.74.5.0/24")));
    assertEquals(Set.of(new Route("10.74.5.0/24", "10.174.0.13")), routes, "the name sorting first keeps it");
  }

  @Test
  void onlyPodCidrWithoutTheListCounts() {
    JsonObject old = node("b", "10.174.0.12");
    old.getJsonObject("spec").put("podCIDR", "10.74.1.0/24");
    assertEquals(Set.of(new Route("10.74.1.0/24", "10.174.0.12")),
        PodCidrRoutes.desired("a", "10.174.0.11", List.of(old)));
  }

  @Test
  void planRemovesWhatIsNoLongerWantedAndAddsWhatIsNew() {
    Route b = new Route("10.74.1.0/24", "10.174.0.12");
    Route bMoved = new Route("10.74.1.0/24", "10.174.0.22");
    Route c = new Route("10.74.2.0/24", "10.174.0.13");
    PodCidrRoutes.Plan plan = PodCidrRoutes.plan(Set.of(b, c), Set.of(bMoved, c));
    assertEquals(List.of(b), plan.remove());
    assertEquals(List.of(bMoved), plan.add());
    assertTrue(PodCidrRoutes.plan(Set.of(c), Set.of(c)).isEmpty());
  }
}
