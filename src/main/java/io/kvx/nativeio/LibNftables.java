package io.kvx.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * libnftables.so.1 through java.lang.foreign: the library the nft binary is built on, without a
 * process per transaction. One context, used by one thread at a time (calls are synchronized); output
 * and errors are buffered and returned. Close it to free the context.
 */
public final class LibNftables implements AutoCloseable {

  /** NFT_CTX_OUTPUT_JSON from libnftables.h. */
  private static final int OUTPUT_JSON = 1 << 4;

  private static final Linker LINKER = Linker.nativeLinker();
  private final Arena arena = Arena.ofShared();
  private final MethodHandle run;
  private final MethodHandle outputBuffer;
  private final MethodHandle errorBuffer;
  private final MethodHandle setOutputFlags;
  private final MethodHandle getOutputFlags;
  private final MethodHandle free;
  private final MemorySegment ctx;

  private LibNftables(SymbolLookup lib) throws Throwable {
    var ptr = ValueLayout.ADDRESS;
    var i32 = ValueLayout.JAVA_INT;
    MethodHandle ctxNew = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_new"), FunctionDescriptor.of(ptr, i32));
    MethodHandle bufferOut = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_buffer_output"),
        FunctionDescriptor.of(i32, ptr));
    MethodHandle bufferErr = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_buffer_error"),
        FunctionDescriptor.of(i32, ptr));
    run = LINKER.downcallHandle(lib.findOrThrow("nft_run_cmd_from_buffer"), FunctionDescriptor.of(i32, ptr, ptr));
    var cstr = ptr.withTargetLayout(java.lang.foreign.MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));
    outputBuffer = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_get_output_buffer"), FunctionDescriptor.of(cstr, ptr));
    errorBuffer = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_get_error_buffer"), FunctionDescriptor.of(cstr, ptr));
    setOutputFlags = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_output_set_flags"),
        FunctionDescriptor.ofVoid(ptr, i32));
    getOutputFlags = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_output_get_flags"), FunctionDescriptor.of(i32, ptr));
    free = LINKER.downcallHandle(lib.findOrThrow("nft_ctx_free"), FunctionDescriptor.ofVoid(ptr));
    ctx = (MemorySegment) ctxNew.invokeExact(0);
    if (ctx.equals(MemorySegment.NULL)) throw new IOException("nft_ctx_new failed");
    int a = (int) bufferOut.invokeExact(ctx);
    int b = (int) bufferErr.invokeExact(ctx);
    if (a != 0 || b != 0) throw new IOException("nft_ctx_buffer_output/error failed");
  }

  /** Loads the library; throws if it is missing or lacks a symbol. */
  public static LibNftables open() throws IOException {
    try {
      return new LibNftables(SymbolLookup.libraryLookup("libnftables.so.1", Arena.global()));
    } catch (IOException e) {
      throw e;
    } catch (Throwable e) {
      throw new IOException("libnftables unavailable: " + e, e);
    }
  }

  /** Runs an nft script (text, or JSON when it starts with '{'); returns its output. */
  public synchronized String run(String script, boolean jsonOutput) throws IOException {
    try (Arena call = Arena.ofConfined()) {
      int flags = (int) getOutputFlags.invokeExact(ctx);
      setOutputFlags.invokeExact(ctx, jsonOutput ? flags | OUTPUT_JSON : flags & ~OUTPUT_JSON);
      int rc = (int) run.invokeExact(ctx, call.allocateFrom(script));
      String out = string((MemorySegment) outputBuffer.invokeExact(ctx));
      String err = string((MemorySegment) errorBuffer.invokeExact(ctx));
      if (rc != 0) throw new IOException("nft: " + (err.isBlank() ? "failed (" + rc + ")" : err.trim()));
      return out;
    } catch (IOException e) {
      throw e;
    } catch (Throwable e) {
      throw new IOException("libnftables call failed: " + e, e);
    }
  }

  private static String string(MemorySegment s) {
    return s.equals(MemorySegment.NULL) ? "" : s.getString(0);
  }

  @Override
  public synchronized void close() {
    try {
      free.invokeExact(ctx);
    } catch (Throwable ignored) {
      // nothing more to free
    }
    arena.close();
  }
}
