package io.kvx.scheduler;

import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Snapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.kvx.scheduler.Fixtures.node;
import static io.kvx.scheduler.Fixtures.pod;
import static io.kvx.scheduler.Fixtures.requests;
import static io.kvx.scheduler.Fixtures.with;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class SchedulerTest {

  private static List<NodeInfo> three() {
    return List.of(
        with(node("a", "{'zone':'z1'}", "{}", "2", "4Gi", "{}"), pod("x", requests("1500m", null))),
        with(node("b", "{'zone':'z1'}", "{}", "2", "4Gi", "{}"), pod("y", requests("500m", null))),
        node("c", "{'zone':'z2'}", "{}", "2", "4Gi", "{}"));
  }

  static Stream<Arguments> cases() {
    String notReady = "{'conditions':[{'type':'Ready','status':'False'}]}";
    return Stream.of(
        Arguments.of("least allocated wins", pod("p", requests("100m", null)), three(), "c", null),
        Arguments.of("node selector narrows", pod("p", "{'nodeSelector':{'zone':'z1'},"
            + requests("100m", null).substring(1)), three(), "b", null),
        Arguments.of("nodeName pins", pod("p", "{'nodeName':'a'," + requests("100m", null).substring(1)), three(),
            "a", null),
        Arguments.of("too big for all", pod("p", requests("3", null)), three(), null,
            "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
                + "3 Preemption is not helpful for scheduling."),
        Arguments.of("mixed reasons, sorted", pod("p", "{'nodeSelector':{'zone':'z1'},"
                + requests("1800m", null).substring(1)), three(), null,
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. "
                + "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
                + "2 No preemption victims found for incoming pod."),
        Arguments.of("cpu and memory both short count twice", pod("p", requests("2500m", "5Gi")), List.of(
                node("a", "2", "4Gi")), null,
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are "
                + "available: 1 Preemption is not helpful for scheduling."),
        Arguments.of("not ready nodes are tainted", pod("p", requests("100m", null)),
            List.of(node("a", "{}", "{}", "2", "4Gi", notReady)), null,
            "0/1 nodes are available: 1 node(s) had untolerated taint(s). preemption: 0/1 nodes are available: "
                + "1 Preemption is not helpful for scheduling."),
        Arguments.of("no nodes", pod("p", requests("100m", null)), List.of(), null,
            "no nodes available to schedule pods"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void schedules(String name, PodInfo pod, List<NodeInfo> nodes, String wantNode, String wantMessage) {
    Scheduler.Result r = new Scheduler().schedule(SchedulerConfig.defaults("default-scheduler").profiles().get(0),
        pod, Snapshot.of(nodes));
    assertEquals(wantNode, r.node());
    assertEquals(wantMessage, r.message());
  }

  @Test
  void preemptionEvictsTheFewestLowerPriorityPods() {
    PodInfo low1 = pod("low1", requests("1", null));
    PodInfo low2 = pod("low2", requests("500m", null));
    PodInfo mid = pod("mid", "{}", "{'priority':50," + requests("1", null).substring(1));
    List<NodeInfo> nodes = List.of(with(node("a", "2", "4Gi"), low1, low2), with(node("b", "2", "4Gi"), mid, 
        pod("low3", requests("1", null))));
    PodInfo high = pod("high", "{}", "{'priority':100," + requests("1500m", null).substring(1));
    Scheduler.Result r = new Scheduler().schedule(SchedulerConfig.defaults("d").profiles().get(0), high,
        Snapshot.of(nodes));
    assertNull(r.node());
    // On a, evicting low1 is enough (low2 is reprieved); on b, mid and low3 must both go: a wins.
    assertEquals("a", r.nominatedNode());
    assertEquals(List.of("default/low1"), r.victims().stream().map(PodInfo::key).toList());
  }

  @Test
  void preemptionSparesPodsTheirDisruptionBudgetProtects() {
    // Two equal nodes, one low-priority pod each; a budget allows no disruption of the pod labelled guarded.
    PodInfo guarded = pod("guarded", "{'labels':{'app':'guarded'}}", requests("1500m", null));
    PodInfo free = pod("free", "{'labels':{'app':'free'}}", requests("1500m", null));
    List<NodeInfo> nodes = List.of(with(node("a", "2", "4Gi"), guarded), with(node("b", "2", "4Gi"), free));
    io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget budget =
        new io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder()
            .withNewMetadata().withName("keep").withNamespace("default").endMetadata()
            .withNewSpec().withMinAvailable(new io.fabric8.kubernetes.api.model.IntOrString(1))
            .withNewSelector().addToMatchLabels("app", "guarded").endSelector().endSpec().build();
    io.kvx.scheduler.framework.Listers listers = new io.kvx.scheduler.framework.Listers() {
      @Override
      public List<io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget> pdbs(String namespace) {
        return namespace.equals("default") ? List.of(budget) : List.of();
      }
    };
    PodInfo high = pod("high", "{}", "{'priority':100," + requests("1", null).substring(1));
    Scheduler.Result r = new Scheduler().schedule(SchedulerConfig.defaults("d").profiles().get(0), high,
        new Snapshot(nodes, listers));
    assertNull(r.node());
    // Either node frees room by one eviction; only on b does it break no budget.
    assertEquals("b", r.nominatedNode());
    assertEquals(List.of("default/free"), r.victims().stream().map(PodInfo::key).toList());
  }

  @Test
  void roomKeptForANominatedPodFromLowerPriorityOnly() {
    // After a preemption on "a", "waiting" (priority 100, 1500m) is nominated there; "b" is full.
    PodInfo waiting = pod("waiting", "{}", "{'priority':100," + requests("1500m", null).substring(1));
    List<NodeInfo> nodes = List.of(node("a", "2", "4Gi"), with(node("b", "2", "4Gi"), pod("full", requests("2", null))));
    Nominator nominator = new Nominator();
    nominator.nominate(waiting, "a");
    var profile = SchedulerConfig.defaults("d").profiles().get(0);

    PodInfo lower = pod("lower", "{}", "{'priority':10," + requests("1", null).substring(1));
    Scheduler.Result r = new Scheduler().schedule(profile, lower, Snapshot.of(nodes).withNominated(nominator.view()));
    assertNull(r.node(), "a lower-priority pod must not take the room kept for the nominated one");

    PodInfo higher = pod("higher", "{}", "{'priority':200," + requests("1", null).substring(1));
    r = new Scheduler().schedule(profile, higher, Snapshot.of(nodes).withNominated(nominator.view()));
    assertEquals("a", r.node(), "a higher-priority pod does not wait for a lower nominated one");

    r = new Scheduler().schedule(profile, waiting, Snapshot.of(nodes).withNominated(nominator.view()));
    assertEquals("a", r.node(), "the nominated pod itself fits where it was nominated");

    nominator.remove(waiting.key());
    r = new Scheduler().schedule(profile, lower, Snapshot.of(nodes).withNominated(nominator.view()));
    assertEquals("a", r.node(), "once the nominated pod is bound or gone the room is free again");
  }

  @Test
  void nominationsFollowThePodsStatus() {
    PodInfo plain = pod("w", "{}", "{'priority':100}");
    PodInfo nominatedA = Fixtures.withStatus(plain, "{'nominatedNodeName':'a'}");
    Nominator n = new Nominator();
    n.nominate(plain, "b");
    n.update(null, plain);
    assertEquals("b", n.nodeOf(plain.key()), "an update without a nomination keeps the one made here");
    n.update(plain, nominatedA);
    assertEquals("a", n.nodeOf(plain.key()), "the status's nomination wins");
    n.update(nominatedA, plain);
    assertNull(n.nodeOf(plain.key()), "a nomination cleared in the status is dropped");
  }

  @Test
  void preemptionKeepsWhatItCan() {
    PodInfo small = pod("small", requests("200m", null));
    PodInfo big = pod("big", requests("1500m", null));
    PodInfo high = pod("high", "{}", "{'priority':100," + requests("1", null).substring(1));
    Scheduler.Result r = new Scheduler().schedule(SchedulerConfig.defaults("d").profiles().get(0), high,
        Snapshot.of(List.of(with(node("a", "2", "4Gi"), small, big))));
    assertEquals("a", r.nominatedNode());
    assertEquals(List.of("default/big"), r.victims().stream().map(PodInfo::key).toList());
  }

  @Test
  void preemptionPolicyNever() {
    PodInfo high = pod("high", "{}", "{'priority':100,'preemptionPolicy':'Never'," + requests("3", null).substring(1));
    Scheduler.Result r = new Scheduler().schedule(SchedulerConfig.defaults("d").profiles().get(0), high,
        Snapshot.of(List.of(node("a", "2", "4Gi"))));
    assertEquals("0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
        + "preemptionPolicy=Never.", r.message());
  }

  @Test
  void bigClustersLookAtAShare() {
    assertEquals(50, Scheduler.numFeasibleNodesToFind(0, 50));
    assertEquals(100, Scheduler.numFeasibleNodesToFind(0, 150));
    assertEquals(500, Scheduler.numFeasibleNodesToFind(0, 5000));
    assertEquals(250, Scheduler.numFeasibleNodesToFind(5, 5000));
    List<NodeInfo> nodes = new ArrayList<>();
    for (int i = 0; i < 1000; i++) nodes.add(node(String.format("n%04d", i), "4", "8Gi"));
    Scheduler.Result r = new Scheduler().schedule(SchedulerConfig.defaults("d").profiles().get(0),
        pod("p", requests("100m", null)), Snapshot.of(nodes));
    assertEquals(420, r.evaluatedNodes()); // 50% − 1000/125 = 42%
  }

  @Test
  void tiesGoToTheFirstNodeByNameWhereverTheSearchStarts() {
    List<NodeInfo> nodes = new ArrayList<>();
    for (int i = 0; i < 300; i++) nodes.add(node(String.format("n%04d", i), "4", "8Gi"));
    Scheduler scheduler = new Scheduler();
    var profile = SchedulerConfig.defaults("d").profiles().get(0);
    // 300 identical nodes, 144 looked at per pod (50% - 300/125 = 48%): the search starts where the last one
    // stopped, and the best of each window is its first node by name.
    Scheduler.Result first = scheduler.schedule(profile, pod("a", requests("100m", null)),
        Snapshot.of(nodes).inNameOrder());
    assertEquals(144, first.evaluatedNodes());
    assertEquals("n0000", first.node());
    Scheduler.Result second = scheduler.schedule(profile, pod("b", requests("100m", null)),
        Snapshot.of(nodes).inNameOrder());
    assertEquals("n0144", second.node());
    // Listed in another order: compared by name all the same (the window n0299 .. n0156 picks n0156).
    List<NodeInfo> reversed = new ArrayList<>(nodes);
    java.util.Collections.reverse(reversed);
    assertEquals("n0156", new Scheduler().schedule(profile, pod("c", requests("100m", null)),
        Snapshot.of(reversed)).node());
  }
}
