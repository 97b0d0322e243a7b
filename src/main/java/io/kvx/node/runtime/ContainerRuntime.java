package io.kvx.node.runtime;

import java.io.IOException;
import java.util.List;

/**
 * A way to run containers (DESIGN §4): {@code oci} (runc or crun on OCI bundles) or {@code process}
 * (plain processes, no isolation). All calls block; the node agent makes them on worker threads.
 * Containers outlive the node agent: each runs under a small detached shim that records its exit code.
 */
public interface ContainerRuntime {

  /** Name and version for node.status.nodeInfo.containerRuntimeVersion, e.g. {@code runc://1.1.5}. */
  String version();

  /** Whether containers get their own namespaces and cgroups. */
  boolean isolated();

  void start(ContainerSpec spec) throws IOException;

  ContainerStatus status(ContainerSpec spec) throws IOException;

  void signal(ContainerSpec spec, String signal) throws IOException;

  /** Removes what the container left (runtime state, cgroup, mounts); it must have exited. */
  void remove(ContainerSpec spec) throws IOException;

  /** The host command line that runs {@code command} inside the running container (exec probes). */
  List<String> inContainer(ContainerSpec spec, List<String> command);
}
