package io.kvx.scheduler;

import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.Resource;
import io.kvx.scheduler.plugins.nodeaffinity.NodeAffinity;
import io.kvx.scheduler.plugins.nodename.NodeName;
import io.kvx.scheduler.plugins.noderesources.NodeResourcesFit;
import io.kvx.scheduler.plugins.nodeunschedulable.NodeUnschedulable;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SchedulerTest {

  private static final NodeResourcesFit FIT = new NodeResourcesFit();
  private static final Scheduler SCHEDULER = new Scheduler(
      List.of(new NodeUnschedulable(), new NodeName(), new NodeAffinity(), FIT),
      List.of(new Scheduler.WeightedScore(FIT, 1)));

  private static NodeInfo node(String name, String cpu, String mem, boolean ready, String zone, long usedMilliCpu) {
    JsonObject n = new JsonObject()
        .put("metadata", new JsonObject().put("name", name).put("labels", new JsonObject().put("zone", zone)))
        .put("spec", new JsonObject())
        .put("status", new JsonObject().put("allocatable", new JsonObject().put("cpu", cpu).put("memory", mem)
            .put("pods", "110")).put("conditions", new JsonArray().add(new JsonObject().put("type", "Ready")
            .put("status", ready ? "True" : "False"))));
    return new NodeInfo(name, n, Resource.ofNode(n), new Resource(usedMilliCpu, 0, 0));
  }

  private static JsonObject pod(String cpu, String zone, String nodeName) {
    JsonObject spec = new JsonObject().put("containers", new JsonArray().add(new JsonObject().put("name", "c")
        .put("resources", new JsonObject().put("requests", new JsonObject().put("cpu", cpu)))));
    if (zone != null) spec.put("nodeSelector", new JsonObject().put("zone", zone));
    if (nodeName != null) spec.put("nodeName", nodeName);
    return new JsonObject().put("metadata", new JsonObject().put("name", "p")).put("spec", spec);
  }

  static Stream<Arguments> cases() {
    List<NodeInfo> three = List.of(node("a", "2", "4Gi", true, "z1", 1500), node("b", "2", "4Gi", true, "z1", 500),
        node("c", "2", "4Gi", true, "z2", 0));
    return Stream.of(
        Arguments.of("least allocated wins", pod("100m", null, null), three, "c", null),
        Arguments.of("node selector narrows", pod("100m", "z1", null), three, "b", null),
        Arguments.of("nodeName pins", pod("100m", null, "a"), three, "a", null),
        Arguments.of("too big for all", pod("3", null, null), three, null,
            "0/3 nodes are available: 3 Insufficient cpu."),
        Arguments.of("mixed reasons", pod("1800m", "z1", null), three, null,
            "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector."),
        Arguments.of("not ready nodes are skipped", pod("100m", null, null),
            List.of(node("a", "2", "4Gi", false, "z1", 0)), null,
            "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."),
        Arguments.of("no nodes", pod("100m", null, null), List.of(), null, "0/0 nodes are available."));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void schedules(String name, JsonObject pod, List<NodeInfo> nodes, String wantNode, String wantMessage) {
    Scheduler.Decision d = SCHEDULER.schedule(pod, nodes);
    assertEquals(wantNode, d.node());
    assertEquals(wantMessage, d.message());
  }
}
