package io.kvx.scheduler.plugins;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.kvx.scheduler.PluginHarness;
import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.plugins.interpodaffinity.InterPodAffinity;
import io.kvx.scheduler.plugins.nodeaffinity.NodeAffinity;
import io.kvx.scheduler.plugins.nodename.NodeName;
import io.kvx.scheduler.plugins.nodeports.NodePorts;
import io.kvx.scheduler.plugins.noderesources.NodeResourcesFit;
import io.kvx.scheduler.plugins.nodeunschedulable.NodeUnschedulable;
import io.kvx.scheduler.plugins.podtopologyspread.PodTopologySpread;
import io.kvx.scheduler.plugins.tainttoleration.TaintToleration;
import io.kvx.scheduler.plugins.volumerestrictions.VolumeRestrictions;
import io.kvx.scheduler.plugins.volumezone.VolumeZone;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static io.kvx.scheduler.Fixtures.node;
import static io.kvx.scheduler.Fixtures.pod;
import static io.kvx.scheduler.Fixtures.requests;
import static io.kvx.scheduler.Fixtures.with;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every predicate, table-driven: plugin, pod, node (and the cluster around it), expected reasons ("" fits). */
class FilterPluginsTest {

  private static final String SPEC = "{'containers':[{'name':'c','image':'busybox'}]";

  private static String spec(String extra) {
    return SPEC + "," + extra + "}";
  }

  private static Arguments c(String name, FilterPlugin p, PodInfo pod, NodeInfo node, String want) {
    return Arguments.of(name, p, pod, node, List.of(node), Listers.EMPTY, want);
  }

  private static Arguments c(String name, FilterPlugin p, PodInfo pod, NodeInfo node, List<NodeInfo> all,
                             String want) {
    return Arguments.of(name, p, pod, node, all, Listers.EMPTY, want);
  }

  static Stream<Arguments> resources() {
    NodeResourcesFit fit = new NodeResourcesFit();
    return Stream.of(
        c("fits", fit, pod("p", requests("1", "1Gi")), node("n", "2", "2Gi"), ""),
        c("cpu", fit, pod("p", requests("1", "1Gi")), with(node("n", "2", "2Gi"), pod("o", requests("1500m", null))),
            "Insufficient cpu"),
        c("cpu and memory", fit, pod("p", requests("1", "1Gi")),
            with(node("n", "2", "2Gi"), pod("o", requests("1500m", "1500Mi"))), "Insufficient cpu, Insufficient memory"),
        c("ephemeral storage", fit, pod("p", "{'containers':[{'name':'c','resources':{'requests':"
            + "{'ephemeral-storage':'5Gi'}}}]}"), node("n", "{}", "{}", "2", "2Gi", "{'allocatable':{'cpu':'2',"
            + "'memory':'2Gi','ephemeral-storage':'1Gi','pods':'110'}}"), "Insufficient ephemeral-storage"),
        c("extended resource", fit, pod("p", "{'containers':[{'name':'c','resources':{'limits':"
            + "{'example.com/gpu':'1'}}}]}"), node("n", "2", "2Gi"), "Insufficient example.com/gpu"),
        c("extended resource present", fit, pod("p", "{'containers':[{'name':'c','resources':{'limits':"
            + "{'example.com/gpu':'1'}}}]}"), node("n", "{}", "{}", "2", "2Gi", "{'allocatable':{'cpu':'2',"
            + "'memory':'2Gi','example.com/gpu':'2','pods':'110'}}"), ""),
        c("pods", fit, pod("p", requests("1m", null)), node("n", "{}", "{}", "2", "2Gi", "{'allocatable':{'cpu':'2',"
            + "'memory':'2Gi','pods':'0'}}"), "Too many pods"),
        c("init container max rule", fit, pod("p", "{'initContainers':[{'name':'i','resources':{'requests':"
            + "{'cpu':'3'}}}],'containers':[{'name':'c','resources':{'requests':{'cpu':'1'}}}]}"), node("n", "2", "2Gi"),
            "Insufficient cpu"),
        c("init container smaller than sum", fit, pod("p", "{'initContainers':[{'name':'i','resources':{'requests':"
            + "{'cpu':'1'}}}],'containers':[{'name':'c','resources':{'requests':{'cpu':'1500m'}}}]}"),
            node("n", "2", "2Gi"), ""),
        c("overhead counts", fit, pod("p", "{'overhead':{'cpu':'600m'}," + requests("1500m", null).substring(1)),
            node("n", "2", "2Gi"), "Insufficient cpu"),
        c("limits stand in for requests", fit, pod("p", "{'containers':[{'name':'c','resources':{'limits':"
            + "{'memory':'3Gi'}}}]}"), node("n", "2", "2Gi"), "Insufficient memory"));
  }

  static Stream<Arguments> nodes() {
    String na = "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':[";
    return Stream.of(
        c("nodeName other", new NodeName(), pod("p", spec("'nodeName':'x'")), node("n", "1", "1Gi"),
            "node(s) didn't match the requested node name"),
        c("nodeName same", new NodeName(), pod("p", spec("'nodeName':'n'")), node("n", "1", "1Gi"), ""),
        c("cordoned", new NodeUnschedulable(), pod("p", "{}"), node("n", "{}", "{'unschedulable':true}", "1", "1Gi", "{}"),
            "node(s) were unschedulable"),
        c("cordoned tolerated", new NodeUnschedulable(), pod("p", spec("'tolerations':[{'key':"
            + "'node.kubernetes.io/unschedulable','operator':'Exists','effect':'NoSchedule'}]")),
            node("n", "{}", "{'unschedulable':true}", "1", "1Gi", "{}"), ""),
        c("selector", new NodeAffinity(), pod("p", spec("'nodeSelector':{'disk':'ssd'}")),
            node("n", "{'disk':'hdd'}", "{}", "1", "1Gi", "{}"), "node(s) didn't match Pod's node affinity/selector"),
        c("In", new NodeAffinity(), pod("p", na + "{'matchExpressions':[{'key':'zone','operator':'In','values':['a','b']}]}]}}}}"),
            node("n", "{'zone':'b'}", "{}", "1", "1Gi", "{}"), ""),
        c("NotIn", new NodeAffinity(), pod("p", na + "{'matchExpressions':[{'key':'zone','operator':'NotIn','values':['b']}]}]}}}}"),
            node("n", "{'zone':'b'}", "{}", "1", "1Gi", "{}"), "node(s) didn't match Pod's node affinity/selector"),
        c("Exists", new NodeAffinity(), pod("p", na + "{'matchExpressions':[{'key':'gpu','operator':'Exists'}]}]}}}}"),
            node("n", "{}", "{}", "1", "1Gi", "{}"), "node(s) didn't match Pod's node affinity/selector"),
        c("DoesNotExist", new NodeAffinity(), pod("p", na + "{'matchExpressions':[{'key':'gpu','operator':'DoesNotExist'}]}]}}}}"),
            node("n", "{}", "{}", "1", "1Gi", "{}"), ""),
        c("Gt", new NodeAffinity(), pod("p", na + "{'matchExpressions':[{'key':'cores','operator':'Gt','values':['8']}]}]}}}}"),
            node("n", "{'cores':'16'}", "{}", "1", "1Gi", "{}"), ""),
        c("Lt", new NodeAffinity(), pod("p", na + "{'matchExpressions':[{'key':'cores','operator':'Lt','values':['8']}]}]}}}}"),
            node("n", "{'cores':'16'}", "{}", "1", "1Gi", "{}"), "node(s) didn't match Pod's node affinity/selector"),
        c("terms are ORed", new NodeAffinity(), pod("p", na + "{'matchExpressions':[{'key':'x','operator':'Exists'}]},"
            + "{'matchFields':[{'key':'metadata.name','operator':'In','values':['n']}]}]}}}}"), node("n", "1", "1Gi"), ""),
        c("matchFields", new NodeAffinity(), pod("p", na + "{'matchFields':[{'key':'metadata.name','operator':'In',"
            + "'values':['m']}]}]}}}}"), node("n", "1", "1Gi"), "node(s) didn't match Pod's node affinity/selector"),
        c("NoSchedule taint", new TaintToleration(), pod("p", "{}"), node("n", "{}", "{'taints':[{'key':'k','value':'v',"
            + "'effect':'NoSchedule'}]}", "1", "1Gi", "{}"), "node(s) had untolerated taint(s)"),
        c("tolerated Equal", new TaintToleration(), pod("p", spec("'tolerations':[{'key':'k','value':'v','operator':'Equal'}]")),
            node("n", "{}", "{'taints':[{'key':'k','value':'v','effect':'NoExecute'}]}", "1", "1Gi", "{}"), ""),
        c("PreferNoSchedule only scores", new TaintToleration(), pod("p", "{}"),
            node("n", "{}", "{'taints':[{'key':'k','effect':'PreferNoSchedule'}]}", "1", "1Gi", "{}"), ""),
        c("memory pressure", new TaintToleration(), pod("p", "{}"), node("n", "{}", "{}", "1", "1Gi",
            "{'conditions':[{'type':'Ready','status':'True'},{'type':'MemoryPressure','status':'True'}]}"),
            "node(s) had untolerated taint(s)"),
        c("disk pressure tolerated", new TaintToleration(), pod("p", spec("'tolerations':[{'key':"
            + "'node.kubernetes.io/disk-pressure','operator':'Exists'}]")), node("n", "{}", "{}", "1", "1Gi",
            "{'conditions':[{'type':'Ready','status':'True'},{'type':'DiskPressure','status':'True'}]}"), ""),
        c("pid pressure", new TaintToleration(), pod("p", "{}"), node("n", "{}", "{}", "1", "1Gi",
            "{'conditions':[{'type':'Ready','status':'True'},{'type':'PIDPressure','status':'True'}]}"),
            "node(s) had untolerated taint(s)"));
  }

  static Stream<Arguments> ports() {
    String hp = "{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080%s}]}]}";
    PodInfo any = pod("o", String.format(hp, ""));
    PodInfo ip1 = pod("o", String.format(hp, ",'hostIP':'10.0.0.1'"));
    return Stream.of(
        c("free", new NodePorts(), pod("p", String.format(hp, "")), node("n", "1", "1Gi"), ""),
        c("taken", new NodePorts(), pod("p", String.format(hp, "")), with(node("n", "1", "1Gi"), any),
            "node(s) didn't have free ports for the requested pod ports"),
        c("other protocol", new NodePorts(), pod("p", String.format(hp, ",'protocol':'UDP'")),
            with(node("n", "1", "1Gi"), any), ""),
        c("other IP", new NodePorts(), pod("p", String.format(hp, ",'hostIP':'10.0.0.2'")),
            with(node("n", "1", "1Gi"), ip1), ""),
        c("wildcard IP", new NodePorts(), pod("p", String.format(hp, "")), with(node("n", "1", "1Gi"), ip1),
            "node(s) didn't have free ports for the requested pod ports"));
  }

  static Stream<Arguments> volumes() {
    String gce = "{'volumes':[{'name':'v','gcePersistentDisk':{'pdName':'d1'%s}}]}";
    String ebs = "{'volumes':[{'name':'v','awsElasticBlockStore':{'volumeID':'vol-1'}}]}";
    Listers pvs = new Listers() {
      @Override
      public PersistentVolumeClaim pvc(String namespace, String name) {
        var c = new PersistentVolumeClaim();
        c.setSpec(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimSpec());
        c.getSpec().setVolumeName(name.equals("bound") ? "pv1" : null);
        return name.equals("missing") ? null : c;
      }

      @Override
      public PersistentVolume pv(String name) {
        var v = new PersistentVolume();
        v.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
        v.getMetadata().setLabels(java.util.Map.of("topology.kubernetes.io/zone", "z1__z2"));
        return v;
      }
    };
    String claim = "{'volumes':[{'name':'v','persistentVolumeClaim':{'claimName':'%s'}}]}";
    NodeInfo z3 = node("n", "{'topology.kubernetes.io/zone':'z3'}", "{}", "1", "1Gi", "{}");
    NodeInfo z2 = node("n", "{'topology.kubernetes.io/zone':'z2'}", "{}", "1", "1Gi", "{}");
    return Stream.of(
        c("gce shared", new VolumeRestrictions(), pod("p", String.format(gce, "")),
            with(node("n", "1", "1Gi"), pod("o", String.format(gce, ""))), "node(s) had no available disk"),
        c("gce both read-only", new VolumeRestrictions(), pod("p", String.format(gce, ",'readOnly':true")),
            with(node("n", "1", "1Gi"), pod("o", String.format(gce, ",'readOnly':true"))), ""),
        c("ebs shared", new VolumeRestrictions(), pod("p", ebs), with(node("n", "1", "1Gi"), pod("o", ebs)),
            "node(s) had no available disk"),
        c("no restricted volumes", new VolumeRestrictions(), pod("p", "{}"), node("n", "1", "1Gi"), ""),
        Arguments.of("zone conflict", new VolumeZone(), pod("p", String.format(claim, "bound")), z3, List.of(z3), pvs,
            "node(s) had no available volume zone"),
        Arguments.of("zone in set", new VolumeZone(), pod("p", String.format(claim, "bound")), z2, List.of(z2), pvs, ""),
        Arguments.of("unbound claim skipped", new VolumeZone(), pod("p", String.format(claim, "unbound")), z3,
            List.of(z3), pvs, ""),
        Arguments.of("missing claim", new VolumeZone(), pod("p", String.format(claim, "missing")), z3, List.of(z3),
            pvs, "persistentvolumeclaim \"missing\" not found"));
  }

  static Stream<Arguments> affinity() {
    String web = "{'labels':{'app':'web'}}";
    String anti = "{'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':"
        + "{'matchLabels':{'app':'web'}},'topologyKey':'%s'}]}}}";
    String aff = "{'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':"
        + "{'matchLabels':{'app':'db'}},'topologyKey':'zone'}]}}}";
    NodeInfo a = with(node("a", "{'zone':'z1'}", "{}", "4", "4Gi", "{}"), pod("w", web, "{}"));
    NodeInfo b = node("b", "{'zone':'z1'}", "{}", "4", "4Gi", "{}");
    NodeInfo c2 = node("c", "{'zone':'z2'}", "{}", "4", "4Gi", "{}");
    List<NodeInfo> all = List.of(a, b, c2);
    NodeInfo dbNode = with(node("d", "{'zone':'z1'}", "{}", "4", "4Gi", "{}"), pod("db", "{'labels':{'app':'db'}}", "{}"));
    NodeInfo e = node("e", "{'zone':'z2'}", "{}", "4", "4Gi", "{}");
    NodeInfo f = node("f", "{'zone':'z1'}", "{}", "4", "4Gi", "{}");
    // An existing pod that repels web pods from its zone.
    NodeInfo g = with(node("g", "{'zone':'z1'}", "{}", "4", "4Gi", "{}"), pod("guard", "{}", String.format(anti, "zone")));
    NodeInfo h = node("h", "{'zone':'z1'}", "{}", "4", "4Gi", "{}");
    NodeInfo i = node("i", "{'zone':'z2'}", "{}", "4", "4Gi", "{}");
    InterPodAffinity ipa = new InterPodAffinity();
    return Stream.of(
        c("anti-affinity hostname, same node", ipa, pod("p", web, String.format(anti, "kubernetes.io/hostname")), a, all,
            "node(s) didn't match pod anti-affinity rules"),
        c("anti-affinity hostname, other node", ipa, pod("p", web, String.format(anti, "kubernetes.io/hostname")), b, all, ""),
        c("anti-affinity zone", ipa, pod("p", web, String.format(anti, "zone")), b, all,
            "node(s) didn't match pod anti-affinity rules"),
        c("anti-affinity other zone", ipa, pod("p", web, String.format(anti, "zone")), c2, all, ""),
        c("affinity satisfied in zone", ipa, pod("p", aff), f, List.of(dbNode, e, f), ""),
        c("affinity not in zone", ipa, pod("p", aff), e, List.of(dbNode, e, f), "node(s) didn't match pod affinity rules"),
        c("first pod of a group", ipa, pod("p", "{'labels':{'app':'db'}}", aff), e, List.of(e), ""),
        c("existing anti-affinity", ipa, pod("p", web, "{}"), h, List.of(g, h, i),
            "node(s) didn't satisfy existing pods anti-affinity rules"),
        c("existing anti-affinity other zone", ipa, pod("p", web, "{}"), i, List.of(g, h, i), ""));
  }

  static Stream<Arguments> spread() {
    String spread = "{'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone','whenUnsatisfiable':'DoNotSchedule',"
        + "'labelSelector':{'matchLabels':{'app':'web'}}}]}";
    String web = "{'labels':{'app':'web'}}";
    NodeInfo a = with(node("a", "{'zone':'z1'}", "{}", "4", "4Gi", "{}"), pod("w1", web, "{}"), pod("w2", web, "{}"));
    NodeInfo b = with(node("b", "{'zone':'z2'}", "{}", "4", "4Gi", "{}"), pod("w3", web, "{}"));
    NodeInfo nolabel = node("c", "4", "4Gi");
    List<NodeInfo> all = List.of(a, b, nolabel);
    PodTopologySpread pts = new PodTopologySpread();
    return Stream.of(
        c("skew too big", pts, pod("p", web, spread), a, all, "node(s) didn't match pod topology spread constraints"),
        c("evens out", pts, pod("p", web, spread), b, all, ""),
        c("missing label", pts, pod("p", web, spread), nolabel, all,
            "node(s) didn't match pod topology spread constraints (missing required label)"),
        c("non-matching pod does not count itself", pts, pod("p", "{}", spread), a, all, ""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource({"resources", "nodes", "ports", "volumes", "affinity", "spread"})
  void filters(String name, FilterPlugin plugin, PodInfo pod, NodeInfo node, List<NodeInfo> all, Listers listers,
               String want) {
    assertEquals(want, PluginHarness.filter(plugin, pod, node, all, listers));
  }
}
