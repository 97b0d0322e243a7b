package io.kvx.scheduler.framework;

import java.util.concurrent.CompletionStage;

/**
 * The writes a scheduler makes, as the binding cycle and preemption see them. The verticle implements
 * it over the API; tests record the calls (Nomad's plan harness).
 */
public interface Cluster {

  CompletionStage<Void> bind(String namespace, String pod, String node);

  /** Graceful deletion of a preemption victim. */
  CompletionStage<Void> evict(String namespace, String pod, String reason);

  CompletionStage<Void> nominate(String namespace, String pod, String node);

  /**
   * Annotates a WaitForFirstConsumer claim with the node chosen for its pod
   * (volume.kubernetes.io/selected-node), so that the volume binder binds or provisions there.
   */
  default CompletionStage<Void> selectNodeForClaim(String namespace, String claim, String node) {
    return java.util.concurrent.CompletableFuture.completedFuture(null);
  }
}
