package io.kvx.node.runtime;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fake runtime (like KWOK): containers "run" without any process, so many nodes can live in one
 * JVM for scheduler and controller scale tests. A container runs until it is signalled, then exits
 * with 128 + the signal number.
 */
public final class FakeRuntime implements ContainerRuntime {

  private final Map<String, Integer> exited = new ConcurrentHashMap<>();
  private final Map<String, Boolean> running = new ConcurrentHashMap<>();

  @Override
  public String version() {
    return "fake://0.1 (no containers)";
  }

  @Override
  public boolean isolated() {
    return false;
  }

  @Override
  public void start(ContainerSpec spec) {
    exited.remove(spec.id());
    running.put(spec.id(), true);
  }

  @Override
  public ContainerStatus status(ContainerSpec spec) {
    Integer code = exited.get(spec.id());
    if (code != null) return ContainerStatus.exited(code);
    return running.containsKey(spec.id()) ? ContainerStatus.RUNNING : ContainerStatus.UNKNOWN;
  }

  @Override
  public void signal(ContainerSpec spec, String signal) {
    if (running.remove(spec.id()) != null) exited.put(spec.id(), signal.equals("KILL") ? 137 : 143);
  }

  @Override
  public void remove(ContainerSpec spec) {
    running.remove(spec.id());
    exited.remove(spec.id());
  }


  /** Nothing runs in a fake container: every command succeeds at once. */
  @Override
  public Process exec(ContainerSpec spec, List<String> command, boolean tty) throws java.io.IOException {
    return new ProcessBuilder("true").start();
  }
}
