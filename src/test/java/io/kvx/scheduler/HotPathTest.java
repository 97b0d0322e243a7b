package io.kvx.scheduler;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.plugins.nodeaffinity.NodeAffinity;
import io.kvx.scheduler.plugins.tainttoleration.TaintToleration;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;
import java.util.stream.Stream;

import static io.kvx.scheduler.PluginHarness.filter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the scheduler keeps between attempts must follow the changes that make it stale. */
class HotPathTest {

  private static final JsonMapper MAPPER = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  static Node nodeObject(String name, String labels, String taints) {
    return MAPPER.readValue(("{'metadata':{'name':'" + name + "','labels':" + labels + "},'spec':{'taints':" + taints
        + "},'status':{'allocatable':{'cpu':'4','memory':'8Gi'},'conditions':[{'type':'Ready','status':'True'}]}}")
        .replace('\'', '"'), Node.class);
  }

  static Stream<Arguments> storedPods() {
    return Stream.of(
        Arguments.of("managedFields are dropped, the rest kept",
            "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p','namespace':'d','uid':'u','labels':{'a':'b'},"
                + "'managedFields':[{'manager':'m','operation':'Update','fieldsV1':{'f:spec':{}}}]},"
                + "'spec':{'priority':7,'nodeSelector':{'k':'v'},'containers':[{'name':'c','image':'i',"
                + "'resources':{'requests':{'cpu':'250m','memory':'1Gi'}},'ports':[{'containerPort':80,"
                + "'hostPort':8080}]}],'tolerations':[{'key':'t','operator':'Exists','tolerationSeconds':300}],"
                + "'overhead':{'cpu':'0.5'}},'status':{'phase':'Pending','nominatedNodeName':'n'}}"),
        Arguments.of("numbers of every width and nulls",
            "{'metadata':{'name':'p','namespace':'d','deletionGracePeriodSeconds':9007199254740993},"
                + "'spec':{'activeDeadlineSeconds':5,'nodeName':null,'containers':[{'name':'c','image':'i'}]}}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("storedPods")
  void podsDecodeFromTheTreeAsFromText(String name, String json) {
    String text = json.replace('\'', '"');
    Pod viaText = MAPPER.readValue(text, Pod.class);
    viaText.getMetadata().setManagedFields(new java.util.ArrayList<>());
    Pod direct = PodDecoder.decode(new JsonObject(text));
    assertEquals(viaText, direct);
    assertEquals(new PodInfo(viaText).requests(), new PodInfo(direct).requests());
  }

  @Test
  void aRememberedSelectorAnswerEndsWhenTheLabelsChange() {
    NodeInfo n = new NodeInfo(nodeObject("n", "{'zone':'a'}", "[]"));
    PodInfo first = Fixtures.pod("p1", "{'nodeSelector':{'zone':'a'}}");
    PodInfo second = Fixtures.pod("p2", "{'nodeSelector':{'zone':'a'}}");
    PodInfo other = Fixtures.pod("p3", "{'nodeSelector':{'zone':'b'}}");
    assertTrue(NodeAffinity.matches(first, n));
    assertTrue(NodeAffinity.matches(second, n), "an equal selector of another pod");
    assertEquals(false, NodeAffinity.matches(other, n));
    assertTrue(NodeAffinity.matches(first, n));
    n.setNode(nodeObject("n", "{'zone':'b'}", "[]"));
    assertEquals(false, NodeAffinity.matches(first, n), "labels changed");
    assertTrue(NodeAffinity.matches(other, n));
  }

  @Test
  void equalTaintsAreOneSetAndAChangedNodeLeavesIt() {
    SchedulerCache cache = new SchedulerCache();
    String taint = "[{'key':'k','value':'v','effect':'NoSchedule'}]";
    cache.upsertNode(nodeObject("a", "{}", taint));
    cache.upsertNode(nodeObject("b", "{}", taint));
    assertSame(cache.node("a").taintSet(), cache.node("b").taintSet());
    PodInfo pod = Fixtures.pod("p", "{}");
    TaintToleration tt = new TaintToleration();
    assertEquals(TaintToleration.REASON, filter(tt, pod, cache.node("a")));
    assertEquals(TaintToleration.REASON, filter(tt, pod, cache.node("b")));
    assertTrue(cache.upsertNode(nodeObject("b", "{}", "[]")), "a taint removed is a change");
    assertEquals("", filter(tt, pod, cache.node("b")));
    assertEquals(TaintToleration.REASON, filter(tt, pod, cache.node("a")));
    cache.upsertNode(nodeObject("c", "{}", "[{'key':'other','effect':'NoExecute'}]"));
    PodInfo tolerant = Fixtures.pod("t", "{'tolerations':[{'key':'k','operator':'Exists'}]}");
    for (int i = 0; i < 3; i++) {
      // Sets asked about in turn: each answer stays its own.
      assertEquals("", filter(tt, tolerant, cache.node("a")));
      assertEquals(TaintToleration.REASON, filter(tt, tolerant, cache.node("c")));
      assertEquals("", filter(tt, tolerant, cache.node("b")));
    }
    assertEquals(false, cache.upsertNode(nodeObject("a", "{}", taint)), "the same taints again are no change");
    assertSame(cache.node("a").taintSet(), cache.node("a").taintSet());
  }

  @Test
  void nodesWithAffinityPodsFollowThePods() {
    SchedulerCache cache = new SchedulerCache();
    cache.upsertNode(nodeObject("a", "{'kubernetes.io/hostname':'a'}", "[]"));
    cache.upsertNode(nodeObject("b", "{'kubernetes.io/hostname':'b'}", "[]"));
    PodInfo anti = Fixtures.pod("anti", "{'labels':{'app':'x'}}", "{'affinity':{'podAntiAffinity':{"
        + "'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':{'matchLabels':{'app':'x'}},"
        + "'topologyKey':'kubernetes.io/hostname'}]}}}");
    Snapshot s = cache.snapshot(Listers.EMPTY);
    assertEquals(List.of(), s.havePodsWithRequiredAntiAffinity());
    cache.assume(anti, "a");
    s = cache.snapshot(Listers.EMPTY);
    assertEquals(List.of("a"), s.havePodsWithRequiredAntiAffinity().stream().map(NodeInfo::name).toList());
    assertEquals(List.of("a"), s.havePodsWithAffinity().stream().map(NodeInfo::name).toList());
    cache.assume(Fixtures.pod("plain", "{}"), "b");
    assertEquals(List.of("a"), cache.snapshot(Listers.EMPTY).havePodsWithAffinity().stream().map(NodeInfo::name)
        .toList());
    cache.removePod(anti.key());
    assertEquals(List.of(), cache.snapshot(Listers.EMPTY).havePodsWithRequiredAntiAffinity());
    assertNull(cache.node("a").pod(anti.key()));
  }

  static Stream<Arguments> bindings() {
    String pending = "{'containers':[{'name':'c','image':'i'}],'schedulerName':'default-scheduler'}";
    return Stream.of(
        Arguments.of("only nodeName set", pending, "{'containers':[{'name':'c','image':'i'}],"
            + "'schedulerName':'default-scheduler','nodeName':'n1'}", true),
        Arguments.of("an image changed too", pending, "{'containers':[{'name':'c','image':'j'}],"
            + "'schedulerName':'default-scheduler','nodeName':'n1'}", false),
        Arguments.of("a field added", pending, "{'containers':[{'name':'c','image':'i'}],"
            + "'schedulerName':'default-scheduler','nodeName':'n1','priority':5}", false),
        Arguments.of("a field removed", pending, "{'containers':[{'name':'c','image':'i'}],'nodeName':'n1'}", false));
  }

  /** The scheduler takes a bound pod for the one it assumed, without decoding it again, only if nothing else changed. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("bindings")
  void aBindingConfirmsTheAssumedPodOnlyIfNothingElseChanged(String name, String before, String after, boolean same) {
    assertEquals(same, SchedulerVerticle.sameExceptNodeName(new JsonObject(before.replace('\'', '"')),
        new JsonObject(after.replace('\'', '"'))));
  }
}
