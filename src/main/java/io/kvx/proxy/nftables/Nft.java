package io.kvx.proxy.nftables;

import io.kvx.nativeio.LibNftables;
import io.kvx.node.Exec;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Sends nft scripts to the kernel: through libnftables when it loads, otherwise the {@code nft}
 * binary with the script on stdin ({@code nft -f -}). Either way one script is one transaction.
 * Blocking: call it from a worker.
 */
public final class Nft implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Nft.class.getName());

  private final LibNftables lib;

  public Nft(boolean tryLibrary) {
    LibNftables l = null;
    if (tryLibrary) {
      try {
        l = LibNftables.open();
      } catch (IOException | RuntimeException | LinkageError e) {
        LOG.info("proxy: libnftables not usable (" + e.getMessage() + "); using the nft binary");
      }
    }
    lib = l;
  }

  public String via() {
    return lib != null ? "libnftables" : "nft binary";
  }

  public String run(String script) throws IOException {
    if (lib != null) return lib.run(script, false);
    return Exec.run(List.of("nft", "-f", "-"), Map.of(), script);
  }

  /** {@code nft list ...} in JSON; the argument is what follows "list". */
  public String listJson(String what) throws IOException {
    if (lib != null) return lib.run("list " + what, true);
    List<String> cmd = new java.util.ArrayList<>(List.of("nft", "-j", "list"));
    cmd.addAll(List.of(what.trim().split("\\s+")));
    return Exec.run(cmd);
  }

  @Override
  public void close() {
    if (lib != null) lib.close();
  }
}
