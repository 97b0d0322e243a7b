package io.kvx.node;

import io.kvx.nativeio.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class StreamServerTest {

  @Test
  void attachOpensTheStdinOfAnExitedContainerWithoutWaiting(@TempDir Path dir) throws Exception {
    // An exited container's stdin FIFO has no reader left; attach must neither hang nor fail on it.
    Path fifo = dir.resolve("stdin");
    Libc.mkfifo(fifo.toString(), 0600);
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
      try (OutputStream in = StreamServer.openStdin(fifo)) {
        in.write("typed after the end\n".getBytes(StandardCharsets.UTF_8));
      }
    });
  }

  @Test
  void whatAttachWritesReachesTheContainerThenItsEndOfInput(@TempDir Path dir) throws Exception {
    // As a stdinOnce container's shim: read-only, waiting for the first writer; EOF once attach closes.
    Path fifo = dir.resolve("stdin");
    Libc.mkfifo(fifo.toString(), 0600);
    // The reader on its own thread: on 2 cores the common pool has one worker, which an earlier test's leftover task
    // can hold, and the writer's open would then wait for a reader that never starts.
    java.util.concurrent.ExecutorService reader = java.util.concurrent.Executors.newSingleThreadExecutor();
    CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
      try (InputStream r = Files.newInputStream(fifo)) {
        return r.readAllBytes();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, reader);
    reader.shutdown();
    byte[] line = "echo attached\n".getBytes(StandardCharsets.UTF_8);
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
      try (OutputStream in = StreamServer.openStdin(fifo)) {
        in.write(line);
      }
      assertArrayEquals(line, read.get());
    });
  }
}
