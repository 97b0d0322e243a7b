package io.kvx.node.runtime;

/** What a runtime knows of a container: running, exited with a code, or unknown (gone). */
public record ContainerStatus(State state, int exitCode) {

  public enum State { RUNNING, EXITED, UNKNOWN }

  public static final ContainerStatus RUNNING = new ContainerStatus(State.RUNNING, 0);
  public static final ContainerStatus UNKNOWN = new ContainerStatus(State.UNKNOWN, -1);
}
