package io.kvx.node.runtime;

/**
 * What a runtime knows of a container: running, exited with a code, or unknown (gone). {@code oomKilled}:
 * the kernel's OOM killer killed a process of the container's memory cgroup (its limit was hit).
 */
public record ContainerStatus(State state, int exitCode, boolean oomKilled) {

  public enum State { RUNNING, EXITED, UNKNOWN }

  public static final ContainerStatus RUNNING = new ContainerStatus(State.RUNNING, 0, false);
  public static final ContainerStatus UNKNOWN = new ContainerStatus(State.UNKNOWN, -1, false);

  public static ContainerStatus exited(int code) {
    return new ContainerStatus(State.EXITED, code, false);
  }

  /** The reason the kubelet gives a terminated container: OOMKilled, Completed or Error. */
  public String reason() {
    return oomKilled ? "OOMKilled" : exitCode == 0 ? "Completed" : "Error";
  }
}
