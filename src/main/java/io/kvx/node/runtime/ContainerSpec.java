package io.kvx.node.runtime;

import java.nio.file.Path;
import java.util.List;

/**
 * What the node agent asks a runtime to run: one attempt of one container. Limits of 0 mean none.
 * {@code netnsPath} is the pod's network namespace (null: the host's); {@code stdin} keeps a pipe open
 * to the container's standard input for attach; with {@code stdinOnce} the container reads the first
 * attach's input and then end-of-file. With {@code networkGate} the runtime creates the container but
 * holds its process back until the pod's network is up ({@link StartGate}); {@code pidNamespacePath}
 * joins another container's PID namespace (ephemeral containers with a target; null: its own).
 * With {@code tty} the container's process runs on a terminal of its own (stdout and stderr are then one
 * stream), as a container with {@code tty: true}.
 */
public record ContainerSpec(String id, Path bundleDir, Path imageRootfs, List<String> args, List<String> env,
                            String workingDir, String hostname, Path logFile, String netnsPath,
                            List<Mount> mounts, long memoryLimitBytes, long cpuLimitMillis, long cpuRequestMillis,
                            String cgroupParent, boolean stdin, boolean stdinOnce, Security security,
                            boolean networkGate, String pidNamespacePath, boolean tty) {

  /** A bind mount into the container. */
  public record Mount(Path source, String destination, boolean readOnly) {}

  /**
   * The process's identity and privileges, from the pod's and container's securityContext:
   * user and groups, capabilities (names as the OCI spec spells them, CAP_...), a read-only root file
   * system, privileged (every capability, nothing masked, all devices) and no_new_privs.
   */
  public record Security(long uid, long gid, List<Long> additionalGids, List<String> capabilities,
                         boolean readOnlyRoot, boolean privileged, boolean noNewPrivileges) {

    public static final Security DEFAULT = new Security(0, 0, List.of(), OciSpec.DEFAULT_CAPABILITIES, false, false,
        false);
  }
}
