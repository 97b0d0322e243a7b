package io.kvx.scheduler.framework;

import java.util.List;

/**
 * The outcome of one plugin at one extension point. Reasons are the phrases kube-scheduler prints in
 * FailedScheduling ("Insufficient cpu"); {@code plugin} names who rejected, so the queue knows which
 * cluster events can help.
 */
public record Status(Code code, List<String> reasons, String plugin) {

  public enum Code {
    SUCCESS,
    /** Rejected, but preemption or a cluster change may help. */
    UNSCHEDULABLE,
    /** Rejected, and evicting pods on the node would not help. */
    UNSCHEDULABLE_AND_UNRESOLVABLE,
    /** The plugin has nothing to do for this pod (PreFilter, PreScore, Bind). */
    SKIP,
    /** Permit: hold the pod before binding. */
    WAIT,
    ERROR
  }

  public static final Status SUCCESS = new Status(Code.SUCCESS, List.of(), null);
  public static final Status SKIP = new Status(Code.SKIP, List.of(), null);

  public static Status unschedulable(String... reasons) {
    return new Status(Code.UNSCHEDULABLE, List.of(reasons), null);
  }

  public static Status unresolvable(String... reasons) {
    return new Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, List.of(reasons), null);
  }

  public static Status error(String message) {
    return new Status(Code.ERROR, List.of(message), null);
  }

  public boolean isSuccess() {
    return code == Code.SUCCESS;
  }

  public boolean isSkip() {
    return code == Code.SKIP;
  }

  public boolean isRejected() {
    return code == Code.UNSCHEDULABLE || code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE;
  }

  public Status withPlugin(String name) {
    return plugin != null || code == Code.SUCCESS ? this : new Status(code, reasons, name);
  }

  public String message() {
    return String.join(", ", reasons);
  }
}
