package io.kvx.node;

import io.kvx.api.ApiError;
import io.kvx.api.RemoteCommand;
import io.kvx.bus.Addresses;
import io.kvx.node.runtime.ContainerRuntime;
import io.kvx.node.runtime.ContainerSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The node's side of exec, attach, port-forward and logs. The API server asks on
 * {@link Addresses#nodeStream}; a session then runs as two flows of channel frames
 * ({@link RemoteCommand}): what the client sends arrives on {@link Addresses#nodeSession}, what the
 * container writes goes to the API server's session address. Every frame is a request whose reply
 * is the acknowledgement, so each direction has one frame in flight: a slow client slows the
 * container instead of filling memory. Process and socket I/O run on virtual threads, never on the
 * event loop.
 */
final class StreamServer {

  private static final Logger LOG = Logger.getLogger(StreamServer.class.getName());
  private static final int CHUNK = 32 * 1024;
  private static final long FOLLOW_POLL_MILLIS = 200;
  /** A client may stop reading for a long time (a paused terminal); the session waits as long. */
  private static final DeliveryOptions FRAME = new DeliveryOptions().setSendTimeout(TimeUnit.HOURS.toMillis(12));

  /** What the agent knows of one container, for a session. */
  /** {@code attached}: an attach with stdin has its own writer (a stdinOnce container's held stdin goes). */
  /** runc's logrus error line for an exec it could not start. */
  private static final java.util.regex.Pattern RUNC_ERROR =
      java.util.regex.Pattern.compile("level=error msg=\"(exec failed: (?:[^\"\\\\]|\\\\.)*)\"");

  record Target(ContainerSpec spec, boolean running, int attempt, String waitingReason, String podIp,
                Function<Integer, Path> logFile, Runnable attached) {}

  /** Finds a pod's container by pod uid and container name; null when unknown. */
  interface Targets {
    Target find(String uid, String container);
  }

  private final Vertx vertx;
  private final String nodeName;
  private final ContainerRuntime runtime;
  private final Targets targets;

  StreamServer(Vertx vertx, String nodeName, ContainerRuntime runtime, Targets targets) {
    this.vertx = vertx;
    this.nodeName = nodeName;
    this.runtime = runtime;
    this.targets = targets;
  }

  Future<Void> register() {
    return vertx.eventBus().<JsonObject>consumer(Addresses.nodeStream(nodeName), this::onOpen).completion();
  }

  private static void fail(Message<?> msg, ApiError e) {
    msg.fail(e.code(), e.toStatus().encode());
  }

  /** {kind: exec|attach|portforward|log, session, replyTo, uid, name, container, ...} */
  private void onOpen(Message<JsonObject> msg) {
    JsonObject q = msg.body();
    String kind = q.getString("kind");
    String pod = q.getString("name");
    Target t = targets.find(q.getString("uid"), q.getString("container"));
    if ((t == null || t.spec() == null) && kind.equals("log") && q.getBoolean("terminated", false)) {
      // Ended before this agent knew it (its logs went with an earlier run of the agent), as the kubelet
      // words a terminated container it holds no log of.
      fail(msg, ApiError.badRequest("container \"" + q.getString("container") + "\" in pod \"" + pod
          + "\" is terminated"));
      return;
    }
    if (t == null || t.spec() == null) {
      fail(msg, ApiError.badRequest("container \"" + q.getString("container") + "\" in pod \"" + pod
          + "\" is waiting to start: " + (t == null || t.waitingReason() == null ? "ContainerCreating"
          : t.waitingReason())));
      return;
    }
    Session s = new Session(q, t);
    if (kind.equals("log")) {
      boolean previous = "true".equals(q.getString("previous"));
      int attempt = previous ? t.attempt() - 1 : t.attempt();
      if (attempt < 0) {
        fail(msg, ApiError.badRequest("previous terminated container \"" + q.getString("container") + "\" in pod \""
            + pod + "\" not found"));
        return;
      }
      s.start(msg, () -> s.log(t.logFile().apply(attempt), !previous && t.running()));
      return;
    }
    if (!kind.equals("portforward") && !t.running()) {
      fail(msg, ApiError.badRequest("container " + q.getString("container") + " is not valid for pod " + pod
          + ": the container is not running"));
      return;
    }
    switch (kind) {
      case "exec" -> s.start(msg, s::exec);
      case "attach" -> s.start(msg, s::attach);
      case "portforward" -> s.start(msg, s::portForward);
      default -> fail(msg, ApiError.badRequest("unknown stream kind " + kind));
    }
  }

  /** Work a session does on its virtual thread. */
  private interface Body {
    void run() throws Exception;
  }

  /**
   * A container's stdin FIFO, opened to write without waiting for a reader: a short-lived container (as
   * `kubectl debug -it ... -- cmd` makes) can exit between the check and the open, and the attach would
   * otherwise hang with its thread. The shim holds the read side while the container runs.
   */
  static OutputStream openStdin(Path fifo) throws IOException {
    return java.nio.channels.Channels.newOutputStream(ContainerRuntime.openFifo(fifo));
  }

  /** One exec, attach, port-forward or log stream. */
  private final class Session {
    final JsonObject q;
    final Target target;
    final String replyTo;
    final ExecutorService input = Executors.newSingleThreadExecutor(Thread.ofVirtual().factory());
    MessageConsumer<Buffer> consumer;
    volatile boolean aborted;
    /** Where client stdin goes; set once the process or socket exists. */
    volatile OutputStream stdin;
    volatile Process process;
    volatile Socket socket;
    /** Opened once the process, pipe or socket exists (or could not be made): client frames wait for it. */
    final java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);

    Session(JsonObject q, Target target) {
      this.q = q;
      this.target = target;
      this.replyTo = q.getString("replyTo");
    }

    void start(Message<JsonObject> msg, Body body) {
      consumer = vertx.eventBus().consumer(Addresses.nodeSession(nodeName, q.getString("session")), this::onFrame);
      consumer.completion().onComplete(ar -> {
        if (ar.failed()) {
          fail(msg, new ApiError(ApiError.Reason.InternalError, "stream setup failed: " + ar.cause().getMessage()));
          return;
        }
        msg.reply(new JsonObject());
        Thread.ofVirtual().name("kvx-stream-" + q.getString("kind")).start(() -> {
          try {
            body.run();
          } catch (Exception e) {
            if (!aborted) {
              LOG.fine("node " + nodeName + ": " + q.getString("kind") + " session for " + q.getString("namespace")
                  + "/" + q.getString("name") + " failed: " + e);
              trySend(RemoteCommand.frame(RemoteCommand.ERROR, RemoteCommand.failure(String.valueOf(e.getMessage()))
                  .encode()));
            }
          } finally {
            ready.countDown();
            finish();
          }
        });
      });
    }

    /** Client frames, in order: the reply goes back only when the frame has been handled. */
    private void onFrame(Message<Buffer> m) {
      Buffer frame = m.body();
      if (RemoteCommand.channel(frame) == (RemoteCommand.END & 0xff)) {
        // The client went away after its last frames: those are written first (an upload closes its connection
        // right after the last byte), then stdin ends; a stdin nobody reads does not hold the session past 5 s.
        vertx.setTimer(5000, t -> abort());
      }
      try {
        input.execute(() -> {
          try {
            ready.await();
            handle(frame);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } catch (IOException e) {
            // the process closed its stdin or the connection went away: drop what the client sends
          }
          m.reply(null);
        });
      } catch (java.util.concurrent.RejectedExecutionException over) {
        m.reply(null); // the session is over: what the client still sends goes nowhere
      }
    }

    private void handle(Buffer frame) throws IOException {
      int channel = RemoteCommand.channel(frame);
      OutputStream in = stdin;
      if (channel == RemoteCommand.STDIN) {
        if (in != null) {
          in.write(RemoteCommand.payload(frame).getBytes());
          in.flush();
        }
      } else if (channel == (RemoteCommand.CLOSE & 0xff)) {
        if (frame.length() > 1 && frame.getByte(1) == RemoteCommand.STDIN) closeStdin();
      } else if (channel == RemoteCommand.RESIZE) {
        int[] size = RemoteCommand.resize(RemoteCommand.payload(frame));
        Process p = process;
        if (size != null && p != null && q.getBoolean("tty", false)) {
          ContainerRuntime.resizeTerminal(p, size[0], size[1]);
        }
      } else if (channel == (RemoteCommand.END & 0xff)) {
        abort();
      }
    }

    private void closeStdin() throws IOException {
      Socket s = socket;
      if (s != null) {
        s.shutdownOutput();
        return;
      }
      // exec: the command's stdin; attach: the container's stdin pipe (a stdinOnce container then reads
      // end-of-file, as with the kubelet; one started with stdin alone keeps the pipe open itself).
      OutputStream in = stdin;
      if (in != null) in.close();
    }

    /**
     * The client went away. A command with a TTY is hung up on; one without gets end-of-file on its stdin and
     * runs to its end, as with the kubelet (so an upload that streams a file into `cat > f` and then closes
     * completes). A connection is closed.
     */
    void abort() {
      aborted = true;
      Process p = process;
      if (p != null) {
        if (q.getBoolean("tty", false)) {
          p.destroy();
        } else {
          try {
            p.getOutputStream().close();
          } catch (IOException ignored) {
            // already closed
          }
        }
      }
      Socket s = socket;
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }

    /** Blocking: one frame to the API server, returning when it has been taken. */
    void send(Buffer frame) throws IOException {
      if (aborted) throw new IOException("the client went away");
      try {
        vertx.eventBus().request(replyTo, frame, FRAME).toCompletionStage().toCompletableFuture().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        abort();
        throw new IOException("interrupted");
      } catch (java.util.concurrent.ExecutionException e) {
        abort();
        throw new IOException("the API server did not take the stream: " + e.getCause().getMessage());
      }
    }

    void trySend(Buffer frame) {
      try {
        send(frame);
      } catch (IOException ignored) {
        // the other side is gone
      }
    }

    void finish() {
      if (!aborted) trySend(RemoteCommand.end());
      abort();
      if (consumer != null) vertx.runOnContext(v -> consumer.unregister());
      input.shutdown();
    }

    /** Copies a stream to a channel until it ends; a channel the client did not ask for is drained. */
    /** What runc said when it could not start an exec'd command, or null. */
    private volatile String runtimeError;

    Thread pump(InputStream from, byte channel, boolean wanted) {
      return Thread.ofVirtual().start(() -> {
        byte[] buf = new byte[CHUNK];
        try {
          int n;
          while ((n = from.read(buf)) >= 0) {
            if (n > 0 && channel == RemoteCommand.STDERR && runtimeError == null) {
              // runc's own refusal to start the command (logrus on its stderr): the Status says it, not the stream.
              java.util.regex.Matcher m = RUNC_ERROR.matcher(new String(buf, 0, n, StandardCharsets.UTF_8));
              if (m.find()) {
                runtimeError = m.group(1).replace("\\\"", "\"");
                continue;
              }
            }
            if (n <= 0 || !wanted || aborted) continue; // drained, so the command never blocks on a full pipe
            try {
              send(RemoteCommand.frame(channel, buf, 0, n));
            } catch (IOException gone) {
              // the client went away: keep draining until the command ends
            }
          }
        } catch (IOException e) {
          // the process ended
        }
      });
    }

    List<String> command() {
      List<String> cmd = new ArrayList<>();
      q.getJsonArray("command", new JsonArray()).forEach(c -> cmd.add(String.valueOf(c)));
      return cmd;
    }

    void exec() throws Exception {
      List<String> cmd = command();
      boolean tty = q.getBoolean("tty", false);
      Process p;
      try {
        p = runtime.exec(target.spec(), cmd, tty);
      } catch (IOException e) {
        send(RemoteCommand.frame(RemoteCommand.ERROR, RemoteCommand.failure("failed to exec in container: "
            + e.getMessage()).encode()));
        return;
      }
      process = p;
      if (aborted) p.destroy();
      if (q.getBoolean("stdin", false)) {
        stdin = p.getOutputStream();
      } else {
        p.getOutputStream().close();
      }
      ready.countDown();
      Thread out = pump(p.getInputStream(), RemoteCommand.STDOUT, q.getBoolean("stdout", true));
      Thread err = pump(p.getErrorStream(), RemoteCommand.STDERR, q.getBoolean("stderr", true) && !tty);
      int code = p.waitFor();
      out.join();
      err.join();
      if (aborted) return;
      // runc exec reports a command it could not start (not found) as 255 with its reason on stderr: as the kubelet
      // with containerd, that is an error executing the command, not its exit code.
      String refused = runtimeError;
      send(RemoteCommand.frame(RemoteCommand.ERROR, (code == 255 && refused != null
          ? RemoteCommand.failure("Internal error occurred: error executing command in container: failed to exec in "
              + "container: OCI runtime exec failed: " + refused + ": unknown")
          : RemoteCommand.status(code, cmd)).encode()));
    }

    /**
     * attach: the main process's output as the shim logs it, from now on, until the container ends;
     * the client's stdin goes to the container's stdin pipe when it was started with stdin.
     */
    void attach() throws Exception {
      Path log = target.spec().logFile();
      long from = Files.exists(log) ? Files.size(log) : 0;
      if (q.getBoolean("stdin", false)) {
        Path fifo = runtime.stdinPipe(target.spec());
        if (Files.exists(fifo) && !runtime.exited(target.spec())) stdin = openStdin(fifo);
        // From now on this attach's input is the container's: when it ends, a stdinOnce container reads end-of-file.
        if (stdin != null) target.attached().run();
      }
      ready.countDown();
      boolean tty = q.getBoolean("tty", false);
      follow(log, from, new ContainerLogs.Options(false, null, null, null, true), true, line -> {
        byte channel = tty || line.stream().equals("stdout") ? RemoteCommand.STDOUT : RemoteCommand.STDERR;
        boolean wanted = channel == RemoteCommand.STDOUT ? q.getBoolean("stdout", true) : q.getBoolean("stderr", true);
        return wanted ? RemoteCommand.frame(channel, line.render(false)) : null;
      });
      OutputStream in = stdin;
      if (in != null) in.close();
      if (!aborted) send(RemoteCommand.frame(RemoteCommand.ERROR, RemoteCommand.success().encode()));
    }

    /**
     * port-forward: one TCP connection to the port on the loopback of the pod's network namespace, as the kubelet
     * dials it (a host-network pod's, or one without a namespace file: its address).
     */
    void portForward() throws Exception {
      int port = q.getInteger("port");
      String netns = target.spec() == null ? null : target.spec().netnsPath();
      boolean inside = netns != null && java.nio.file.Files.exists(java.nio.file.Path.of(netns));
      Socket s;
      try {
        if (inside) {
          s = io.kvx.node.network.NetNamespaces.connectLoopback(java.nio.file.Path.of(netns), port, 5000);
        } else {
          s = new Socket();
          try {
            s.connect(new InetSocketAddress(target.podIp(), port), 5000);
          } catch (IOException e) {
            s.close();
            throw e;
          }
        }
      } catch (IOException e) {
        send(RemoteCommand.frame(RemoteCommand.ERROR, "error forwarding port " + port + " to pod " + q.getString("name")
            + ", uid " + q.getString("uid") + ": failed to connect to " + (inside ? "localhost" : target.podIp()) + ":"
            + port + " inside namespace: " + e.getMessage()));
        return;
      }
      socket = s;
      stdin = s.getOutputStream();
      ready.countDown();
      if (aborted) s.close();
      Thread out = pump(s.getInputStream(), RemoteCommand.STDOUT, true);
      out.join();
    }

    /** pods/log: the file from the start (or the tail), then, when following, what gets appended. */
    void log(Path file, boolean followable) throws Exception {
      Instant since = null;
      if (q.getString("sinceTime") != null) since = Instant.parse(q.getString("sinceTime"));
      if (q.getString("sinceSeconds") != null) {
        since = Instant.now().minusSeconds(Long.parseLong(q.getString("sinceSeconds")));
      }
      ContainerLogs.Options opts = new ContainerLogs.Options("true".equals(q.getString("timestamps")), since,
          q.getString("tailLines") == null ? null : Integer.valueOf(q.getString("tailLines")),
          q.getString("limitBytes") == null ? null : Long.valueOf(q.getString("limitBytes")),
          "true".equals(q.getString("follow")) && followable);
      if (!Files.exists(file)) return;
      long from = 0;
      if (opts.tailLines() != null) {
        byte[] all = Files.readAllBytes(file);
        from = ContainerLogs.tailOffset(all, all.length, opts.tailLines());
      }
      follow(file, from, opts, opts.follow(), line -> opts.accepts(line)
          ? RemoteCommand.frame(RemoteCommand.STDOUT, line.render(opts.timestamps())) : null);
    }

    /**
     * Reads a log file from an offset, line by line, sending what {@code render} makes of each line,
     * batched; when following, waits for more until the container has ended and the file is drained.
     */
    void follow(Path file, long from, ContainerLogs.Options opts, boolean follow,
                Function<ContainerLogs.Line, Buffer> render) throws Exception {
      long budget = opts.limitBytes() == null ? Long.MAX_VALUE : opts.limitBytes();
      // The shim creates the log when the command first starts.
      while (!Files.exists(file)) {
        if (!follow || aborted || runtime.exited(target.spec())) return;
        Thread.sleep(FOLLOW_POLL_MILLIS / 4);
      }
      RandomAccessFile f = new RandomAccessFile(file.toFile(), "r");
      try {
        Object key = fileKey(file);
        long pos = from;
        byte[] buf = new byte[CHUNK];
        byte[] carry = new byte[0];
        boolean ended = false;
        while (!aborted) {
          f.seek(pos);
          int n = f.read(buf);
          if (n > 0) {
            pos += n;
            byte[] data = new byte[carry.length + n];
            System.arraycopy(carry, 0, data, 0, carry.length);
            System.arraycopy(buf, 0, data, carry.length, n);
            List<Buffer> frames = new ArrayList<>();
            int rest = ContainerLogs.completeLines(data, data.length, raw -> {
              Buffer b = render.apply(ContainerLogs.parse(raw));
              if (b != null) frames.add(b);
            });
            carry = java.util.Arrays.copyOfRange(data, rest, data.length);
            budget = sendBatched(frames, budget);
            if (budget <= 0) return;
            continue;
          }
          if (!follow || ended) break;
          // The agent rotated the log away (renamed it) and the shim writes a new file: go on there.
          Object now = fileKey(file);
          if (now != null && !now.equals(key)) {
            f.close();
            f = new RandomAccessFile(file.toFile(), "r");
            key = now;
            pos = 0;
            continue;
          }
          // Read once more after the container ended: its last lines may have landed meanwhile.
          ended = runtime.exited(target.spec());
          if (!ended) Thread.sleep(FOLLOW_POLL_MILLIS);
        }
        if (carry.length > 0 && !aborted) {
          Buffer b = render.apply(ContainerLogs.parse(new String(carry, StandardCharsets.UTF_8)));
          if (b != null) sendBatched(List.of(b), budget);
        }
      } finally {
        f.close();
      }
    }

    private static Object fileKey(Path file) {
      try {
        return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
      } catch (IOException e) {
        return null;
      }
    }

    /** Sends frames of one channel run together, cut at the byte budget; returns what is left of it. */
    private long sendBatched(List<Buffer> frames, long budget) throws IOException {
      Buffer batch = null;
      for (Buffer frame : frames) {
        if (batch != null && (batch.getByte(0) != frame.getByte(0) || batch.length() > CHUNK)) {
          send(batch);
          batch = null;
        }
        Buffer payload = RemoteCommand.payload(frame);
        if (payload.length() > budget) payload = payload.slice(0, (int) budget);
        budget -= payload.length();
        if (batch == null) batch = Buffer.buffer().appendByte(frame.getByte(0));
        batch.appendBuffer(payload);
        if (budget <= 0) break;
      }
      if (batch != null && batch.length() > 1) send(batch);
      return budget;
    }
  }
}
