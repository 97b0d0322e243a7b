package io.kvx.controller.nodelifecycle;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.kvx.controller.Taints;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The node lifecycle controller: watches nodes and their Leases in kube-node-lease; {@link NodeHealth}
 * decides conditions, taints and evictions; this class writes them. Nodes are looked at again when a
 * lease would run out, since silence produces no event.
 */
public final class NodeLifecycleReconciler implements Reconciler {

  private static final Logger LOG = Logger.getLogger(NodeLifecycleReconciler.class.getName());
  public static final String LEASE_NAMESPACE = "kube-node-lease";

  private final Cache nodes;
  private final Cache leases;
  private final Cache pods;
  private final ApiClient client;
  private final EventRecorder events;
  private final NodeHealth.Settings settings;
  private final Instant watchingSince = Instant.now();

  public NodeLifecycleReconciler(Cache nodes, Cache leases, Cache pods, ApiClient client, EventRecorder events,
                                 NodeHealth.Settings settings, Consumer<String> enqueue) {
    this.nodes = nodes;
    this.leases = leases;
    this.pods = pods;
    this.client = client;
    this.events = events;
    this.settings = settings;
    nodes.listen(c -> enqueue.accept(Meta.name(c.object())));
    leases.listen(c -> {
      if (LEASE_NAMESPACE.equals(Meta.namespace(c.object()))) enqueue.accept(Meta.name(c.object()));
    });
    // A pod landing on a node with a NoExecute taint may have to go.
    pods.listen(c -> {
      if (c.current() == null) return;
      String node = c.current().getJsonObject("spec", new JsonObject()).getString("nodeName");
      if (node == null || (c.old() != null && node.equals(c.old().getJsonObject("spec", new JsonObject())
          .getString("nodeName")))) {
        return;
      }
      JsonObject n = nodes.get(node);
      if (n != null && Taints.of(n).stream().anyMatch(t -> "NoExecute".equals(t.getString("effect")))) {
        enqueue.accept(node);
      }
    });
  }

  @Override
  public String name() {
    return "nodelifecycle";
  }

  /**
   * The node object is gone, so no kubelet will finish its pods' deletion: they go at once (pod
   * garbage collection's job in Kubernetes), and their owners replace them elsewhere.
   */
  private Future<Result> collectOrphans(String node, List<JsonObject> onNode) {
    List<Future<?>> deletes = new ArrayList<>();
    for (JsonObject pod : onNode) {
      String ns = Meta.namespace(pod);
      deletes.add(client.delete(Resources.PODS, ns, Meta.name(pod), new JsonObject().put("gracePeriodSeconds", 0))
          .onSuccess(x -> LOG.info("nodelifecycle: deleted " + ns + "/" + Meta.name(pod) + " of deleted node " + node))
          .recover(ApiError.ignoring(ApiError.Reason.NotFound)));
    }
    return Future.all(deletes).map(Result.DONE);
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject node = nodes.get(key);
    List<JsonObject> onNode = pods.onNode(key);
    if (node == null) return collectOrphans(key, onNode);
    JsonObject lease = leases.get(LEASE_NAMESPACE, key);
    NodeHealth.Decision d = NodeHealth.decide(node, lease, onNode, Instant.now(), watchingSince, settings);
    Future<?> status = Future.succeededFuture();
    if (d.conditions() != null) {
      LOG.info("nodelifecycle: node " + key + ": " + NodeHealth.STOPPED + " Conditions are now Unknown");
      events.normal(node, "NodeNotReady", "Node " + key + " status is now: NodeNotReady");
      status = client.mergePatch(Resources.NODES, null, key, "status",
          new JsonObject().put("status", new JsonObject().put("conditions", d.conditions())));
    }
    Future<?> taints = Future.succeededFuture();
    if (d.taints() != null) {
      LOG.info("nodelifecycle: node " + key + ": taints now " + d.taints().encode());
      taints = client.mergePatch(Resources.NODES, null, key, null, new JsonObject().put("spec",
          new JsonObject().put("taints", d.taints().isEmpty() ? null : d.taints())));
    }
    List<Future<?>> evictions = new ArrayList<>();
    for (JsonObject pod : d.evict()) {
      String ns = Meta.namespace(pod);
      evictions.add(client.deleteDisrupted(ns, Meta.name(pod), "DeletionByTaintManager",
              "Taint manager: deleting due to NoExecute taint", null)
          .onSuccess(x -> {
            LOG.info("nodelifecycle: evicted " + ns + "/" + Meta.name(pod) + " from node " + key);
            events.normal(pod, "TaintManagerEviction", "Marking for deletion Pod " + ns + "/" + Meta.name(pod));
          })
          .recover(ApiError.ignoring(ApiError.Reason.NotFound)));
    }
    List<Future<?>> marks = new ArrayList<>();
    for (NodeHealth.PodReady p : d.notReady()) {
      JsonObject pod = p.pod();
      marks.add(client.mergePatch(Resources.PODS, Meta.namespace(pod), Meta.name(pod), "status",
              new JsonObject().put("status", new JsonObject().put("conditions", p.conditions())))
          .recover(ApiError.ignoring(ApiError.Reason.NotFound)));
    }
    return Future.all(status, taints, Future.all(evictions), Future.all(marks))
        .map(v -> d.requeueAfterMs() > 0 ? Result.after(d.requeueAfterMs()) : Result.DONE);
  }

}
