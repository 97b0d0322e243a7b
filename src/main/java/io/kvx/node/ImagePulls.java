package io.kvx.node;

import java.util.HashMap;
import java.util.Map;

/**
 * The kubelet's image manager decisions for one container start, by imagePullPolicy. No registry is
 * reachable from a kvx node, so a "pull" resolves the reference in the node's image store (what
 * {@code kvx image import} put there): {@code Always} pulls every time (Pulling/Pulled events, failing
 * when the image is absent), {@code IfNotPresent} uses a present image, {@code Never} never pulls.
 * A failed pull gives ErrImagePull, then ImagePullBackOff until the back-off (10 s doubling to 5 min,
 * per pod and image, as the kubelet's) has passed. Pure: the caller says whether the image is present.
 */
final class ImagePulls {

  /** What to do: start (reason null) or wait with a reason and message; events to record. */
  record Decision(boolean pull, String reason, String message, String eventType, String eventReason,
                  String eventMessage) {

    boolean start() {
      return reason == null;
    }
  }

  private record BackOff(int failures, long notBefore, String lastError) {}

  static final long INITIAL_BACKOFF_MS = 10_000;
  static final long MAX_BACKOFF_MS = 300_000;

  private final Map<String, BackOff> backOffs = new HashMap<>();

  /** Whether the policy asks to look in the store at all (Never and IfNotPresent with the image there do not pull). */
  static String policy(String imagePullPolicy, String image) {
    if (imagePullPolicy != null && !imagePullPolicy.isEmpty()) return imagePullPolicy;
    String last = image.substring(image.lastIndexOf('/') + 1);
    boolean latest = !image.contains("@") && (!last.contains(":") || last.endsWith(":latest"));
    return latest ? "Always" : "IfNotPresent";
  }

  /**
   * Decides for a container whose image is or is not {@code present}. {@code key} identifies the pod
   * (its uid); {@code now} is the clock in milliseconds.
   */
  synchronized Decision decide(String key, String image, String imagePullPolicy, boolean present, long now) {
    String policy = policy(imagePullPolicy, image);
    String backOffKey = key + "/" + image;
    if (policy.equals("Never")) {
      if (present) return new Decision(false, null, null, "Normal", "Pulled",
          "Container image \"" + image + "\" already present on machine");
      String msg = "Container image \"" + image + "\" is not present with pull policy of Never";
      return new Decision(false, "ErrImageNeverPull", msg, "Warning", "ErrImageNeverPull", msg);
    }
    if (policy.equals("IfNotPresent") && present) {
      return new Decision(false, null, null, "Normal", "Pulled",
          "Container image \"" + image + "\" already present on machine");
    }
    BackOff b = backOffs.get(backOffKey);
    if (b != null && now < b.notBefore) {
      String msg = "Back-off pulling image \"" + image + "\": ErrImagePull: " + b.lastError;
      return new Decision(false, "ImagePullBackOff", msg, "Normal", "BackOff", "Back-off pulling image \"" + image + "\"");
    }
    if (present) {
      backOffs.remove(backOffKey);
      return new Decision(true, null, null, "Normal", "Pulled", "Successfully pulled image \"" + image
          + "\" from the node's image store");
    }
    String error = "failed to pull and unpack image \"" + io.kvx.node.image.ImageStore.normalize(image)
        + "\": not in the node's image store and no registry is configured (import it with `kvx image import`)";
    int failures = b == null ? 1 : b.failures + 1;
    long delay = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS << Math.min(failures - 1, 5));
    backOffs.put(backOffKey, new BackOff(failures, now + delay, error));
    return new Decision(true, "ErrImagePull", error, "Warning", "Failed",
        "Failed to pull image \"" + image + "\": " + error);
  }

  /** Drops a pod's back-off entries when it goes away. */
  synchronized void forget(String key) {
    backOffs.keySet().removeIf(k -> k.startsWith(key + "/"));
  }
}
