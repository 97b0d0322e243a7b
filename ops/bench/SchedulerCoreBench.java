import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.kvx.scheduler.Scheduler;
import io.kvx.scheduler.SchedulerCache;
import io.kvx.scheduler.SchedulerConfig;
import io.kvx.scheduler.framework.Framework;
import io.kvx.scheduler.framework.Listers;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.Snapshot;
import io.vertx.core.json.JsonObject;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The scheduler's own CPU per pod, no I/O: NODES nodes and PODS pods shaped as ops/bench/scheduler
 * makes them (the pods as the API server stores them: admission defaults, default tolerations), each
 * pod decoded from its stored JSON as the scheduler's watch does, scheduled with the default profile
 * and assumed on its node, one thread. Prints pods/s, microseconds and bytes allocated per pod for the
 * decode and for the scheduling cycle, and a hash of the placements: two builds whose hashes agree placed
 * every pod on the same node. Each ROUND starts from empty nodes; the first rounds warm the JIT up.
 * Usage: SchedulerCoreBench [NODES=5000] [PODS=10000] [ROUNDS=4]
 */
public class SchedulerCoreBench {

  static final JsonMapper MAPPER = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  public static void main(String[] a) throws Exception {
    int nodes = a.length > 0 ? Integer.parseInt(a[0]) : 5000;
    int pods = a.length > 1 ? Integer.parseInt(a[1]) : 10000;
    int rounds = a.length > 2 ? Integer.parseInt(a[2]) : 4;
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().threadId();
    List<Node> nodeObjects = new ArrayList<>();
    for (int i = 0; i < nodes; i++) nodeObjects.add(MAPPER.readValue(node("n" + i).encode(), Node.class));
    List<JsonObject> stored = new ArrayList<>();
    for (int i = 0; i < pods; i++) stored.add(pod("p" + i));
    for (int round = 1; round <= rounds; round++) {
      SchedulerCache cache = new SchedulerCache();
      for (Node n : nodeObjects) cache.upsertNode(n);
      Framework fw = SchedulerConfig.defaults("default-scheduler").profiles().get(0);
      Scheduler scheduler = new Scheduler();
      // Decode, as the watch hands the scheduler each pod.
      long c0 = threads.getCurrentThreadCpuTime();
      long b0 = threads.getThreadAllocatedBytes(tid);
      List<PodInfo> infos = new ArrayList<>(pods);
      for (JsonObject o : stored) infos.add(new PodInfo(decode(o)));
      long c1 = threads.getCurrentThreadCpuTime();
      long b1 = threads.getThreadAllocatedBytes(tid);
      long hash = 1;
      int unscheduled = 0;
      for (PodInfo p : infos) {
        Snapshot snapshot = cache.snapshot(Listers.EMPTY);
        Scheduler.Result r = scheduler.schedule(fw, p, snapshot);
        if (!r.scheduled()) {
          unscheduled++;
          continue;
        }
        fw.runReserve(r.state(), p, r.node());
        cache.assume(p, r.node());
        hash = hash * 31 + r.node().hashCode();
      }
      long c2 = threads.getCurrentThreadCpuTime();
      long b2 = threads.getThreadAllocatedBytes(tid);
      System.out.printf("round %d: decode %.1f us/pod %.1f KB/pod; schedule %.1f us/pod (%.0f pods/s on one core)"
              + " %.1f KB/pod; placements %016x, %d unscheduled%n", round, (c1 - c0) / 1e3 / pods,
          (b1 - b0) / 1024.0 / pods, (c2 - c1) / 1e3 / pods, pods / ((c2 - c1) / 1e9), (b2 - b1) / 1024.0 / pods,
          hash, unscheduled);
    }
  }

  /** As the scheduler turns a watched object into a Pod: the text round trip, unless the build has a direct way. */
  static Pod decode(JsonObject o) throws Exception {
    try {
      var m = Class.forName("io.kvx.scheduler.PodDecoder").getMethod("decode", JsonObject.class);
      return (Pod) m.invoke(null, o);
    } catch (ClassNotFoundException e) {
      return MAPPER.readValue(o.encode(), Pod.class);
    }
  }

  /** As ops/bench/SchedulerBench creates them, after its status patch. */
  static JsonObject node(String name) {
    return new JsonObject("""
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","uid":"u-%s","resourceVersion":"5",
         "labels":{"kubernetes.io/hostname":"%s","kvx.io/bench":"true"}},
         "spec":{"taints":[{"key":"kvx.io/bench","effect":"NoSchedule"}]},
         "status":{"capacity":{"cpu":"4","memory":"32Gi","pods":"110"},
          "allocatable":{"cpu":"4","memory":"32Gi","pods":"110"},
          "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
           "lastHeartbeatTime":"2026-11-24T00:00:00Z"}]}}""".formatted(name, name, name));
  }

  /** The bench's pod with what admission and defaulting add before it is stored. */
  static JsonObject pod(String name) {
    return new JsonObject("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"bench","uid":"u-%s",
          "resourceVersion":"1234","creationTimestamp":"2026-11-24T00:00:00Z","managedFields":[{"manager":"bench",
          "operation":"Update","apiVersion":"v1","time":"2026-11-24T00:00:00Z","fieldsType":"FieldsV1",
          "fieldsV1":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"c\\"}":{".":{},"f:image":{},"f:name":{},
          "f:resources":{".":{},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}}}},"f:nodeSelector":{},
          "f:tolerations":{}}}}]},
         "spec":{"nodeSelector":{"kvx.io/bench":"true"},
          "tolerations":[{"key":"kvx.io/bench","operator":"Exists"},
           {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
           {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
          "containers":[{"name":"c","image":"registry.k8s.io/pause:3.10","imagePullPolicy":"IfNotPresent",
           "resources":{"requests":{"cpu":"100m","memory":"500Mi"}},"terminationMessagePath":"/dev/termination-log",
           "terminationMessagePolicy":"File","volumeMounts":[{"name":"kube-api-access-x","readOnly":true,
           "mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],
          "volumes":[{"name":"kube-api-access-x","projected":{"defaultMode":420,"sources":[
           {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
           {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
           {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}]}}],
          "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
          "serviceAccountName":"default","serviceAccount":"default","securityContext":{},
          "schedulerName":"default-scheduler","priority":0,"enableServiceLinks":true,
          "preemptionPolicy":"PreemptLowerPriority"},
         "status":{"phase":"Pending","qosClass":"Burstable"}}""".formatted(name, name));
  }
}
