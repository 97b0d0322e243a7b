package io.kvx.node.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Lets a pod's first container be created while the pod's network is still being set up, without its
 * process running before the network is there (the kubelet's order): the runtime's createRuntime hook
 * (see {@link OciSpec#gateHook}) reads a word from a FIFO in the bundle. The agent holds the FIFO open
 * read-write from the launch on (an open that never blocks, and keeps what is written until the hook
 * reads it), writes "go" or "no" once the network is up or failed, and closes it once the container
 * started or exited. Should the agent die first, the hook reads end-of-file and the start fails.
 * Blocking.
 */
public final class StartGate implements AutoCloseable {

  static final String FIFO = "network-ready";
  /** How long the runtime lets the hook wait (a CNI chain on a busy machine takes seconds, not minutes). */
  static final int TIMEOUT_SECONDS = 120;

  private final FileChannel fifo;

  private StartGate(FileChannel fifo) {
    this.fifo = fifo;
  }

  /** Opens the gate FIFO of a container the runtime started with {@link ContainerSpec#networkGate()}. */
  public static StartGate open(ContainerSpec spec) throws IOException {
    Path path = spec.bundleDir().resolve(FIFO);
    return new StartGate(ContainerRuntime.openFifo(path));
  }

  /** Lets the container's process start (true) or fails its start (false). */
  public void release(boolean go) throws IOException {
    fifo.write(ByteBuffer.wrap((go ? "go\n" : "no\n").getBytes(StandardCharsets.US_ASCII)));
  }

  @Override
  public void close() throws IOException {
    fifo.close();
  }
}
