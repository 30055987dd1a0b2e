;; Matrix products for the decoder's DotEngine (src/ops/dot/dotEngine.ts): hand-written WebAssembly
;; with 128-bit SIMD. `npx tsx bench/reference/build-dot-wasm.ts` assembles it into dotWasm.ts; a
;; test checks that the committed bytes are this file's.
;;
;; out (rows, 4·blocks) = x (rows, k) · W, with W (k, n) packed by dotPack.ts: output rows j of Wᵀ
;; in blocks of four, k padded to a multiple of 8, and the block stored chunk by chunk, so that one
;; pointer walks it in order:
;;     [row 4b, cols 8c..8c+7][row 4b+1, same cols][row 4b+2][row 4b+3][row 4b, cols 8c+8..] ...
;; x is permuted within each chunk of 8 to its even positions, then its odd ones (0 2 4 6 1 3 5 7),
;; which is what makes bfloat16 cheap to widen: bfloat16 is the upper half of a float32, so in a
;; little-endian 32-bit lane holding elements 2l and 2l+1, `lane << 16` is element 2l as a float32
;; and `lane & 0xffff0000` is element 2l+1, exactly. Float32 chunks are stored permuted like x.
;;
;; One step reads 8 values of x (two vectors) and 8 weights of each of the four rows, and adds into
;; eight accumulators: four outputs × (even, odd), eight independent add chains. A one-token step
;; (rows = 1) thus streams every weight once, in address order.
;;
;; Every address is a byte offset into the exported memory.
(module
  (memory (export "memory") 1 65536)

  ;; Sum of the four lanes, (v0 + v1) + (v2 + v3).
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; out[0..4) = the four dot products of x (k floats, permuted) with the block at w (bfloat16).
  (func $block_bf16 (param $x i32) (param $w i32) (param $k i32) (param $out i32)
    (local $end i32) (local $xe v128) (local $xo v128) (local $v v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
    (local.set $hi (i32x4.splat (i32.const 0xffff0000)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $xe (v128.load (local.get $x)))
        (local.set $xo (v128.load offset=16 (local.get $x)))
        (local.set $v (v128.load (local.get $w)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xe) (i32x4.shl (local.get $v) (i32.const 16)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xo) (v128.and (local.get $v) (local.get $hi)))))
        (local.set $v (v128.load offset=16 (local.get $w)))
        (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $xe) (i32x4.shl (local.get $v) (i32.const 16)))))
        (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $xo) (v128.and (local.get $v) (local.get $hi)))))
        (local.set $v (v128.load offset=32 (local.get $w)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $xe) (i32x4.shl (local.get $v) (i32.const 16)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $xo) (v128.and (local.get $v) (local.get $hi)))))
        (local.set $v (v128.load offset=48 (local.get $w)))
        (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $xe) (i32x4.shl (local.get $v) (i32.const 16)))))
        (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $xo) (v128.and (local.get $v) (local.get $hi)))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (local.set $w (i32.add (local.get $w) (i32.const 64)))
        (br $step)))
    (f32.store offset=0 (local.get $out) (call $hsum (f32x4.add (local.get $a0) (local.get $a1))))
    (f32.store offset=4 (local.get $out) (call $hsum (f32x4.add (local.get $b0) (local.get $b1))))
    (f32.store offset=8 (local.get $out) (call $hsum (f32x4.add (local.get $c0) (local.get $c1))))
    (f32.store offset=12 (local.get $out) (call $hsum (f32x4.add (local.get $d0) (local.get $d1)))))

  ;; The same with float32 weights: a chunk is 32 bytes per row, 128 per step.
  (func $block_f32 (param $x i32) (param $w i32) (param $k i32) (param $out i32)
    (local $end i32) (local $xe v128) (local $xo v128)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $xe (v128.load (local.get $x)))
        (local.set $xo (v128.load offset=16 (local.get $x)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xe) (v128.load offset=0 (local.get $w)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xo) (v128.load offset=16 (local.get $w)))))
        (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $xe) (v128.load offset=32 (local.get $w)))))
        (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $xo) (v128.load offset=48 (local.get $w)))))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $xe) (v128.load offset=64 (local.get $w)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $xo) (v128.load offset=80 (local.get $w)))))
        (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $xe) (v128.load offset=96 (local.get $w)))))
        (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $xo) (v128.load offset=112 (local.get $w)))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (local.set $w (i32.add (local.get $w) (i32.const 128)))
        (br $step)))
    (f32.store offset=0 (local.get $out) (call $hsum (f32x4.add (local.get $a0) (local.get $a1))))
    (f32.store offset=4 (local.get $out) (call $hsum (f32x4.add (local.get $b0) (local.get $b1))))
    (f32.store offset=8 (local.get $out) (call $hsum (f32x4.add (local.get $c0) (local.get $c1))))
    (f32.store offset=12 (local.get $out) (call $hsum (f32x4.add (local.get $d0) (local.get $d1)))))

  ;; out (rows, 4·blocks) = x (rows, k) · W for the packed W at w with `bytes` bytes per weight
  ;; (2: bfloat16, 4: float32); k is a multiple of 8. Blocks go outer, so a block's weights are
  ;; reused by every row of x while they are in cache.
  (func $dot (param $x i32) (param $rows i32) (param $k i32) (param $w i32) (param $blocks i32) (param $out i32) (param $bytes i32)
    (local $b i32) (local $r i32) (local $blockBytes i32) (local $n i32)
    (local.set $blockBytes (i32.mul (i32.shl (local.get $k) (i32.const 2)) (local.get $bytes)))
    (local.set $n (i32.shl (local.get $blocks) (i32.const 2)))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $b) (local.get $blocks)))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $row
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (if (i32.eq (local.get $bytes) (i32.const 2))
              (then (call $block_bf16
                (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 2)))
                (local.get $w) (local.get $k)
                (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (i32.shl (local.get $b) (i32.const 2))) (i32.const 2)))))
              (else (call $block_f32
                (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 2)))
                (local.get $w) (local.get $k)
                (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (i32.shl (local.get $b) (i32.const 2))) (i32.const 2))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $row)))
        (local.set $w (i32.add (local.get $w) (local.get $blockBytes)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block))))

  (func (export "dot_bf16") (param $x i32) (param $rows i32) (param $k i32) (param $w i32) (param $blocks i32) (param $out i32)
    (call $dot (local.get $x) (local.get $rows) (local.get $k) (local.get $w) (local.get $blocks) (local.get $out) (i32.const 2)))

  (func (export "dot_f32") (param $x i32) (param $rows i32) (param $k i32) (param $w i32) (param $blocks i32) (param $out i32)
    (call $dot (local.get $x) (local.get $rows) (local.get $k) (local.get $w) (local.get $blocks) (local.get $out) (i32.const 4)))
)
