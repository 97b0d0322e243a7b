package io.kvx.proxy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One proxy per host network namespace: rules, the service route and its device are per namespace,
 * so when several kvx node JVMs share one (tests, several nodes on a laptop) the first takes this
 * lock and programs for all; the rest stand by. The kernel drops the lock when the JVM dies.
 */
final class HostLock implements AutoCloseable {

  private static final Path DIR = Path.of("/run/kvx");

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private HostLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /** The lock for this table, or null if another proxy holds it. */
  static HostLock tryAcquire(String table) throws IOException {
    Files.createDirectories(DIR);
    String netns = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString().replaceAll("\\D", "");
    Path file = DIR.resolve("proxy-" + table + "-netns" + netns + ".lock");
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock l = ch.tryLock();
      if (l != null) return new HostLock(file, ch, l);
    } catch (OverlappingFileLockException e) {
      // held by another verticle in this JVM
    }
    ch.close();
    return null;
  }

  @Override
  public void close() throws IOException {
    try {
      Files.deleteIfExists(file);
      lock.release();
    } finally {
      channel.close();
    }
  }
}
