package io.kvx.node.network;

import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.Informer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.logging.Logger;

/**
 * The pod CIDR a node agent configures CNI host-local from: its Node's spec.podCIDR, as the kubelet
 * takes it. A node registered without one waits until the controller manager's node IPAM assigns it.
 */
public final class NodePodCidr {

  private static final Logger LOG = Logger.getLogger(NodePodCidr.class.getName());

  private NodePodCidr() {
  }

  /** Completes with the node's first IPv4 pod CIDR once it has one; logs every {@code logEveryMs} while waiting. */
  public static Future<String> await(Vertx vertx, ApiClient client, String nodeName, long logEveryMs) {
    Promise<String> found = Promise.promise();
    Informer[] watch = new Informer[1];
    long t0 = System.currentTimeMillis();
    long timer = vertx.setPeriodic(logEveryMs, t -> LOG.info("node " + nodeName + ": waiting "
        + (System.currentTimeMillis() - t0) / 1000 + " s for a podCIDR from the controller manager's node IPAM "
        + "(--cluster-cidr there; or give this node --pod-cidr)"));
    client.watch(Resources.NODES, n -> nodeName.equals(n.getJsonObject("metadata", new JsonObject()).getString("name")),
        ev -> {
          List<String> cidrs = PodCidrRoutes.podCidrs(ev.object());
          if (!cidrs.isEmpty()) found.tryComplete(cidrs.get(0));
        }).onSuccess(i -> {
          watch[0] = i;
          if (found.future().isComplete()) i.stop();
        }).onFailure(found::tryFail);
    return found.future().onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (watch[0] != null) watch[0].stop();
    });
  }
}
