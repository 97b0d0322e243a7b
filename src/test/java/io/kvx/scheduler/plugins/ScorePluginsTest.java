package io.kvx.scheduler.plugins;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.kvx.scheduler.PluginHarness;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.plugins.equalpriority.EqualPriority;
import io.kvx.scheduler.plugins.imagelocality.ImageLocality;
import io.kvx.scheduler.plugins.interpodaffinity.InterPodAffinity;
import io.kvx.scheduler.plugins.nodeaffinity.NodeAffinity;
import io.kvx.scheduler.plugins.noderesources.BalancedAllocation;
import io.kvx.scheduler.plugins.noderesources.NodeResourcesFit;
import io.kvx.scheduler.plugins.podtopologyspread.PodTopologySpread;
import io.kvx.scheduler.plugins.selectorspread.SelectorSpread;
import io.kvx.scheduler.plugins.tainttoleration.TaintToleration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static io.kvx.scheduler.Fixtures.node;
import static io.kvx.scheduler.Fixtures.pod;
import static io.kvx.scheduler.Fixtures.requests;
import static io.kvx.scheduler.Fixtures.with;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every priority, table-driven: plugin, pod, nodes, expected normalized scores (0..100) per node. */
class ScorePluginsTest {

  private static final Listers WEB_SERVICE = new Listers() {
    @Override
    public List<LabelSelector> spreadSelectors(PodInfo pod) {
      return List.of(new LabelSelector(null, Map.of("app", "web")));
    }
  };

  private static Arguments c(String name, ScorePlugin p, PodInfo pod, List<NodeInfo> nodes, Map<String, Long> want) {
    return Arguments.of(name, p, pod, nodes, Listers.EMPTY, want);
  }

  static Stream<Arguments> cases() {
    NodeResourcesFit most = new NodeResourcesFit(NodeResourcesFit.Strategy.MostAllocated,
        NodeResourcesFit.DEFAULT_RESOURCES, List.of(), Set.of(), Set.of());
    NodeResourcesFit ratio = new NodeResourcesFit(NodeResourcesFit.Strategy.RequestedToCapacityRatio,
        List.of(new NodeResourcesFit.ResourceWeight("cpu", 1)),
        List.of(new NodeResourcesFit.ShapePoint(0, 0), new NodeResourcesFit.ShapePoint(100, 10)), Set.of(), Set.of());
    String web = "{'labels':{'app':'web'}}";
    String prefNode = "{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':["
        + "{'weight':10,'preference':{'matchExpressions':[{'key':'disk','operator':'In','values':['ssd']}]}},"
        + "{'weight':30,'preference':{'matchExpressions':[{'key':'zone','operator':'In','values':['z1']}]}}]}}}";
    String prefPod = "{'affinity':{'podAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':5,"
        + "'podAffinityTerm':{'labelSelector':{'matchLabels':{'app':'web'}},'topologyKey':'kubernetes.io/hostname'}}]}}}";
    String spreadAnyway = "{'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone','whenUnsatisfiable':"
        + "'ScheduleAnyway','labelSelector':{'matchLabels':{'app':'web'}}}]}";
    return Stream.of(
        c("least allocated", new NodeResourcesFit(), pod("p", requests("1", "1Gi")),
            List.of(node("a", "4", "4Gi"), with(node("b", "4", "4Gi"), pod("o", requests("2", "2Gi")))),
            Map.of("a", 75L, "b", 25L)),
        c("most allocated", most, pod("p", requests("1", "1Gi")),
            List.of(node("a", "4", "4Gi"), with(node("b", "4", "4Gi"), pod("o", requests("2", "2Gi")))),
            Map.of("a", 25L, "b", 75L)),
        c("requested to capacity ratio", ratio, pod("p", requests("1", null)),
            List.of(node("a", "4", "4Gi"), with(node("b", "4", "4Gi"), pod("o", requests("1", null)))),
            Map.of("a", 25L, "b", 50L)),
        c("zero requests score as 100m/200Mi", new NodeResourcesFit(), pod("p", "{}"),
            List.of(node("a", "1", "2000Mi")), Map.of("a", 90L)),
        c("balanced", new BalancedAllocation(), pod("p", requests("1", "1Gi")),
            List.of(node("a", "2", "2Gi"), node("b", "2", "8Gi")), Map.of("a", 100L, "b", 81L)),
        c("node affinity preferred", new NodeAffinity(), pod("p", prefNode),
            List.of(node("a", "{'disk':'ssd','zone':'z1'}", "{}", "1", "1Gi", "{}"),
                node("b", "{'zone':'z1'}", "{}", "1", "1Gi", "{}"), node("c", "{'disk':'ssd'}", "{}", "1", "1Gi", "{}"),
                node("d", "1", "1Gi")),
            Map.of("a", 100L, "b", 75L, "c", 25L, "d", 0L)),
        c("PreferNoSchedule", new TaintToleration(), pod("p", "{}"),
            List.of(node("a", "1", "1Gi"), node("b", "{}", "{'taints':[{'key':'k','effect':'PreferNoSchedule'}]}", "1",
                "1Gi", "{}"), node("c", "{}", "{'taints':[{'key':'k','effect':'PreferNoSchedule'},{'key':'j','effect':"
                + "'PreferNoSchedule'}]}", "1", "1Gi", "{}")),
            Map.of("a", 100L, "b", 50L, "c", 0L)),
        c("image locality", new ImageLocality(), pod("p", "{'containers':[{'name':'c','image':'big:1'}]}"),
            List.of(node("a", "{}", "{}", "1", "1Gi", "{'images':[{'names':['docker.io/library/big:1'],"
                + "'sizeBytes':524288000}]}"), node("b", "1", "1Gi")),
            Map.of("a", 23L, "b", 0L)),
        c("inter-pod affinity preferred", new InterPodAffinity(), pod("p", prefPod),
            List.of(with(node("a", "1", "1Gi"), pod("w", web, "{}")), node("b", "1", "1Gi")),
            Map.of("a", 100L, "b", 0L)),
        c("topology spread ScheduleAnyway", new PodTopologySpread(), pod("p", web, spreadAnyway),
            List.of(with(node("a", "{'zone':'z1'}", "{}", "1", "1Gi", "{}"), pod("w1", web, "{}"), pod("w2", web, "{}")),
                node("b", "{'zone':'z2'}", "{}", "1", "1Gi", "{}")),
            Map.of("a", 0L, "b", 100L)),
        c("equal", new EqualPriority(), pod("p", "{}"), List.of(node("a", "1", "1Gi"), node("b", "1", "1Gi")),
            Map.of("a", 1L, "b", 1L)),
        Arguments.of("selector spread", new SelectorSpread(), pod("p", web, "{}"),
            List.of(with(node("a", "1", "1Gi"), pod("w1", web, "{}"), pod("w2", web, "{}")),
                with(node("b", "1", "1Gi"), pod("w3", web, "{}")), node("c", "1", "1Gi")), WEB_SERVICE,
            Map.of("a", 0L, "b", 50L, "c", 100L)),
        Arguments.of("system default spread", new PodTopologySpread(), pod("p", web, "{}"),
            List.of(with(node("a", "1", "1Gi"), pod("w1", web, "{}"), pod("w2", web, "{}")), node("b", "1", "1Gi")),
            WEB_SERVICE, Map.of("a", 40L, "b", 100L)));
  }

  @org.junit.jupiter.api.Test
  void imageLocalitySkipsItsScoresWhenNoNodeHasThePodsImages() {
    ImageLocality plugin = new ImageLocality();
    PodInfo p = pod("p", "{'containers':[{'name':'c','image':'big:1'}]}");
    List<NodeInfo> without = List.of(node("a", "1", "1Gi"), node("b", "1", "1Gi"));
    assertTrue(plugin.preScore(new io.kvx.scheduler.framework.CycleState(), p, without,
        new io.kvx.scheduler.framework.Snapshot(without, Listers.EMPTY)).isSkip());
    List<NodeInfo> with = List.of(node("a", "{}", "{}", "1", "1Gi", "{'images':[{'names':['docker.io/library/big:1'],"
        + "'sizeBytes':524288000}]}"), node("b", "1", "1Gi"));
    assertTrue(plugin.preScore(new io.kvx.scheduler.framework.CycleState(), p, with,
        new io.kvx.scheduler.framework.Snapshot(with, Listers.EMPTY)).isSuccess());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void scores(String name, ScorePlugin plugin, PodInfo pod, List<NodeInfo> nodes, Listers listers,
              Map<String, Long> want) {
    assertEquals(want, Map.copyOf(PluginHarness.score(plugin, pod, nodes, listers)));
  }
}
