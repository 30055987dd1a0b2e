;; Element-wise training kernels that run on tfjs-backend-wasm's own heap: the module imports the
;; backend's memory, so it reads and writes tensors in place (src/ops/wasm/heapKernels.ts loads it).
;; `npx tsx bench/reference/build-heap-wasm.ts` assembles it into heapKernelsWasm.ts; a test checks
;; that the committed bytes are this file's. Every address is a byte offset into that memory.
(module
  (import "env" "memory" (memory 1))

  ;; GeLU and its derivative from geluTable.ts's float32 table, four elements at a time, the same
  ;; float32 operations in the same order as geluAndDerivative there (so the same results):
  ;;   t = min(max(64x, -512), 512),  f = floor(t),  u = t - f (exact),  i = f + 512,
  ;;   y = x * Phi_i(u),  dy = dPhi_i(u)   (Phi = normal cdf, dPhi = Phi + x*phi),
  ;; each cubic from the 8 floats of step i at co + 32*i (step 1024, where x >= 8 lands, is 1 and 1).
  ;; The clamp is pmax/pmin, which pass NaN through; trunc_sat sends NaN to step 512 and u is NaN.
  ;; count must be at least 4: when it is not a multiple of 4 the last block is the last four
  ;; elements, overlapping the block before (recomputing the same values).
  (func (export "gelu") (param $x i32) (param $y i32) (param $dy i32) (param $count i32) (param $co i32)
    (local $off i32) (local $last i32) (local $vx v128) (local $t v128) (local $f v128) (local $u v128)
    (local $k v128) (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32)
    (local $lo01 v128) (local $lo23 v128) (local $hi01 v128) (local $hi23 v128)
    (local.set $last (i32.shl (i32.sub (local.get $count) (i32.const 4)) (i32.const 2)))
    (loop $block
      (local.set $vx (v128.load (i32.add (local.get $x) (local.get $off))))
      (local.set $t
        (f32x4.pmin
          (f32x4.pmax (f32x4.mul (local.get $vx) (v128.const f32x4 64 64 64 64)) (v128.const f32x4 -512 -512 -512 -512))
          (v128.const f32x4 512 512 512 512)))
      (local.set $f (f32x4.floor (local.get $t)))
      (local.set $u (f32x4.sub (local.get $t) (local.get $f)))
      ;; byte offsets 32*(f + 512) of the four steps
      (local.set $k
        (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $f)) (v128.const i32x4 512 512 512 512)) (i32.const 5)))
      (local.set $k0 (i32.add (local.get $co) (i32x4.extract_lane 0 (local.get $k))))
      (local.set $k1 (i32.add (local.get $co) (i32x4.extract_lane 1 (local.get $k))))
      (local.set $k2 (i32.add (local.get $co) (i32x4.extract_lane 2 (local.get $k))))
      (local.set $k3 (i32.add (local.get $co) (i32x4.extract_lane 3 (local.get $k))))
      ;; Phi's coefficients: rows (c0 c1 c2 c3) of the four steps transposed by unpacks into
      ;; lo01 = (r0.c0 r1.c0 r0.c1 r1.c1), lo23 (rows 2, 3), hi01 = (r0.c2 r1.c2 r0.c3 r1.c3), hi23,
      ;; whose 64-bit halves pair into C0 .. C3, one coefficient for every lane.
      (local.set $lo01 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load (local.get $k0)) (v128.load (local.get $k1))))
      (local.set $lo23 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load (local.get $k2)) (v128.load (local.get $k3))))
      (local.set $hi01 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load (local.get $k0)) (v128.load (local.get $k1))))
      (local.set $hi23 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load (local.get $k2)) (v128.load (local.get $k3))))
      (v128.store (i32.add (local.get $y) (local.get $off))
        (f32x4.mul (local.get $vx)
          (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo01) (local.get $lo23))
            (f32x4.mul (local.get $u)
              (f32x4.add (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo01) (local.get $lo23))
                (f32x4.mul (local.get $u)
                  (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $hi01) (local.get $hi23))
                    (f32x4.mul (local.get $u)
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $hi01) (local.get $hi23))))))))))
      ;; dPhi's coefficients, the step's second 16 bytes, the same way.
      (local.set $lo01 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load offset=16 (local.get $k0)) (v128.load offset=16 (local.get $k1))))
      (local.set $lo23 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load offset=16 (local.get $k2)) (v128.load offset=16 (local.get $k3))))
      (local.set $hi01 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load offset=16 (local.get $k0)) (v128.load offset=16 (local.get $k1))))
      (local.set $hi23 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load offset=16 (local.get $k2)) (v128.load offset=16 (local.get $k3))))
      (v128.store (i32.add (local.get $dy) (local.get $off))
        (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo01) (local.get $lo23))
          (f32x4.mul (local.get $u)
            (f32x4.add (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo01) (local.get $lo23))
              (f32x4.mul (local.get $u)
                (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $hi01) (local.get $hi23))
                  (f32x4.mul (local.get $u)
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $hi01) (local.get $hi23)))))))))
      (if (i32.lt_u (local.get $off) (local.get $last))
        (then
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (if (i32.gt_u (local.get $off) (local.get $last)) (then (local.set $off (local.get $last))))
          (br $block)))))

  ;; Swaps the middle two axes of src (g, r, c, e) into dst (g, c, r, e): dst[a][j][i] = src[a][i][j],
  ;; each entry a run of e floats. With e = 1 and r, c multiples of 4 it moves 4x4 tiles through
  ;; SIMD registers (four row loads, eight shuffles, four column stores); otherwise it copies the
  ;; runs one by one (memory.copy). src and dst must not overlap.
  (func (export "transpose")
    (param $src i32) (param $dst i32) (param $g i32) (param $r i32) (param $c i32) (param $e i32)
    (local $a i32) (local $i i32) (local $j i32) (local $in i32) (local $out i32) (local $run i32)
    (local $rowBytes i32) (local $colBytes i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $run (i32.shl (local.get $e) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $c) (local.get $run)))
    (local.set $colBytes (i32.mul (local.get $r) (local.get $run)))
    (if (i32.and (i32.eq (local.get $e) (i32.const 1))
          (i32.eqz (i32.and (i32.or (local.get $r) (local.get $c)) (i32.const 3))))
      (then
        (block $gDone
          (loop $gLoop
            (br_if $gDone (i32.ge_u (local.get $a) (local.get $g)))
            (local.set $i (i32.const 0))
            (block $iDone
              (loop $iLoop
                (br_if $iDone (i32.ge_u (local.get $i) (local.get $r)))
                (local.set $in (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $rowBytes))))
                (local.set $out (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))))
                (local.set $j (i32.const 0))
                (block $jDone
                  (loop $jLoop
                    (br_if $jDone (i32.ge_u (local.get $j) (local.get $c)))
                    (local.set $v0 (v128.load (local.get $in)))
                    (local.set $v1 (v128.load (i32.add (local.get $in) (local.get $rowBytes))))
                    (local.set $v2 (v128.load (i32.add (local.get $in) (i32.shl (local.get $rowBytes) (i32.const 1)))))
                    (local.set $v3 (v128.load (i32.add (local.get $in) (i32.mul (local.get $rowBytes) (i32.const 3)))))
                    ;; (a0 b0 a1 b1), (a2 b2 a3 b3), (c0 d0 c1 d1), (c2 d2 c3 d3)
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
                    ;; columns j..j+3 of rows i..i+3: (a0 b0 c0 d0) ... (a3 b3 c3 d3)
                    (v128.store (local.get $out)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $out) (local.get $colBytes))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $out) (i32.shl (local.get $colBytes) (i32.const 1)))
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store (i32.add (local.get $out) (i32.mul (local.get $colBytes) (i32.const 3)))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $in (i32.add (local.get $in) (i32.const 16)))
                    (local.set $out (i32.add (local.get $out) (i32.shl (local.get $colBytes) (i32.const 2))))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $jLoop)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $iLoop)))
            (local.set $src (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (br $gLoop))))
      (else
        (block $gDone2
          (loop $gLoop2
            (br_if $gDone2 (i32.ge_u (local.get $a) (local.get $g)))
            (local.set $i (i32.const 0))
            (block $iDone2
              (loop $iLoop2
                (br_if $iDone2 (i32.ge_u (local.get $i) (local.get $r)))
                (local.set $in (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $rowBytes))))
                (local.set $out (i32.add (local.get $dst) (i32.mul (local.get $i) (local.get $run))))
                (local.set $j (i32.const 0))
                (block $jDone2
                  (loop $jLoop2
                    (br_if $jDone2 (i32.ge_u (local.get $j) (local.get $c)))
                    (memory.copy (local.get $out) (local.get $in) (local.get $run))
                    (local.set $in (i32.add (local.get $in) (local.get $run)))
                    (local.set $out (i32.add (local.get $out) (local.get $colBytes)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $jLoop2)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $iLoop2)))
            (local.set $src (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (br $gLoop2))))))

  ;; C (m, n) = A' . B' (+ bias (n) on every row when hasBias), float32, where A'(i, kk) is the
  ;; float at a + i*aRow + kk*aCol and B'(kk, j) at b + kk*bRow + j*bCol (byte strides): one kernel
  ;; for A.B, A^T.B (a weight gradient x^T.dy) and A.B^T (an input gradient dy.W^T), so no operand
  ;; is transposed first. Any m, n >= 1; C's rows are nb bytes apart (4n: row-major (m, n); more:
  ;; C is a slice of a wider matrix, e.g. one head of (T, heads*hd)). pack is 16k + 48 floats of scratch.
  ;; With bsum (not 0) the column sums of B' over its k rows are written there too (n floats): a
  ;; weight gradient x^T.dy gives its bias gradient, the column sums of dy, from the same packing.
  ;; Column blocks of 16 are the outer loop. Each block of B' (k x 16) is first packed into
  ;; pack (then the bias block, then a 2x16 tile for a last, partial block; columns past n are zeros): contiguous,
  ;; so it stays in the first-level cache whatever B's strides (B read in place, with a row stride
  ;; of 2 KB for n = 512, maps onto a few cache sets and thrashed it). Each 2x16 tile of C is then
  ;; held in eight f32x4 accumulators (starting from the bias) while k runs, every step one packed
  ;; row (four vectors) times two splatted entries of A'. Sums run over k in order, in float32, as
  ;; XNNPACK's do (same results). The build also writes a variant whose tile steps are one
  ;; f32x4.relaxed_madd each (fused, one rounding), which heapKernels.ts loads where relaxed SIMD
  ;; compiles. Calling XNNPACK through tfjs-backend-wasm costs an operator creation and a repacking
  ;; of B per call (B is new every step: a gradient, or weights the optimizer replaced).
  ;; tri skips terms that are exact zeros in causal attention (the same sums, less work): 1, A' is
  ;; lower-triangular (row r zero past column r: k runs to i + 2 for rows i, i + 1); 2, A' is upper-
  ;; triangular (zero before column r: k starts at i); 3, only C's lower triangle is read (a tile
  ;; wholly above the diagonal is left at its bias, zero without one); 0, none.
  (func $matmul (export "matmul")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
    (param $bias i32) (param $hasBias i32) (param $aRow i32) (param $aCol i32) (param $bRow i32) (param $bCol i32)
    (param $pack i32) (param $tri i32) (param $nb i32) (param $bsum i32)
    (local $pbEnd i32) (local $i i32) (local $j i32) (local $col i32) (local $src i32) (local $dst i32) (local $pa i32) (local $pb i32)
    (local $out i32) (local $biasAt i32) (local $ncols i32) (local $aRow2 i32)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $biasAt (i32.add (local.get $pack) (i32.shl (local.get $k) (i32.const 6))))
    (block $jDone
      (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $n)))
        ;; Pack rows kk of the block B'(kk, j .. j + ncols) at pack + 64*kk, zeros past n, then the
        ;; bias block (zeros without a bias). Row by row, so B's lines are read in order when its
        ;; columns are adjacent and reused by the next 16 rows when its rows are (B read transposed).
        (local.set $ncols (i32.sub (local.get $n) (local.get $j)))
        (if (i32.gt_u (local.get $ncols) (i32.const 16)) (then (local.set $ncols (i32.const 16))))
        (if (i32.lt_u (local.get $ncols) (i32.const 16))
          (then (memory.fill (local.get $pack) (i32.const 0) (i32.shl (local.get $k) (i32.const 6)))))
        (memory.fill (local.get $biasAt) (i32.const 0) (i32.const 64))
        (local.set $src (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bCol))))
        (local.set $dst (local.get $pack))
        ;; B read transposed (a key matrix for q.k^T, a weight for dy.W^T), a whole block, k a
        ;; multiple of 4: B'(kk..kk+3, j+c) are four adjacent floats of memory row j+c, so four
        ;; such rows make a 4x4 tile, transposed by shuffles into four packed rows at once.
        (if (i32.and (i32.and (i32.eq (local.get $bRow) (i32.const 4)) (i32.eq (local.get $ncols) (i32.const 16)))
              (i32.eqz (i32.and (local.get $k) (i32.const 3))))
          (then
            (block $tiled
              (loop $tileRows
                (br_if $tiled (i32.ge_u (local.get $dst) (local.get $biasAt)))
                (local.set $col (i32.const 0))
                (loop $tileCols
                  ;; rows j+col .. j+col+3 of memory, floats kk .. kk+3: (a0..a3), (b..), (c..), (d..)
                  (local.set $out (i32.add (local.get $src) (i32.mul (local.get $col) (local.get $bCol))))
                  (local.set $b0 (v128.load (local.get $out)))
                  (local.set $b1 (v128.load (i32.add (local.get $out) (local.get $bCol))))
                  (local.set $out (i32.add (local.get $out) (i32.shl (local.get $bCol) (i32.const 1))))
                  (local.set $b2 (v128.load (local.get $out)))
                  (local.set $b3 (v128.load (i32.add (local.get $out) (local.get $bCol))))
                  ;; (a0 b0 a1 b1), (a2 b2 a3 b3), (c0 d0 c1 d1), (c2 d2 c3 d3)
                  (local.set $c00 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $b0) (local.get $b1)))
                  (local.set $c01 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $b0) (local.get $b1)))
                  (local.set $c02 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $b2) (local.get $b3)))
                  (local.set $c03 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $b2) (local.get $b3)))
                  ;; packed rows kk .. kk+3, columns col .. col+3: (a0 b0 c0 d0) ... (a3 b3 c3 d3)
                  (local.set $out (i32.add (local.get $dst) (i32.shl (local.get $col) (i32.const 2))))
                  (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c00) (local.get $c02)))
                  (v128.store offset=64 (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c00) (local.get $c02)))
                  (v128.store offset=128 (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c01) (local.get $c03)))
                  (v128.store offset=192 (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c01) (local.get $c03)))
                  (local.set $col (i32.add (local.get $col) (i32.const 4)))
                  (br_if $tileCols (i32.lt_u (local.get $col) (i32.const 16))))
                (local.set $src (i32.add (local.get $src) (i32.const 16)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 256)))
                (br $tileRows)))))
        (block $packed
          (loop $packRow
            (br_if $packed (i32.ge_u (local.get $dst) (local.get $biasAt)))
            (if (i32.and (i32.eq (local.get $bCol) (i32.const 4)) (i32.eq (local.get $ncols) (i32.const 16)))
              (then
                (v128.store (local.get $dst) (v128.load (local.get $src)))
                (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
                (v128.store offset=32 (local.get $dst) (v128.load offset=32 (local.get $src)))
                (v128.store offset=48 (local.get $dst) (v128.load offset=48 (local.get $src))))
              (else
                (local.set $col (i32.const 0))
                (block $d
                  (loop $l
                    (br_if $d (i32.ge_u (local.get $col) (local.get $ncols)))
                    (f32.store (i32.add (local.get $dst) (i32.shl (local.get $col) (i32.const 2)))
                      (f32.load (i32.add (local.get $src) (i32.mul (local.get $col) (local.get $bCol)))))
                    (local.set $col (i32.add (local.get $col) (i32.const 1)))
                    (br $l)))))
            (local.set $src (i32.add (local.get $src) (local.get $bRow)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
            (br $packRow)))
        (if (local.get $bsum)
          (then
            ;; B's column sums over its k rows, from the packed block (in the first-level cache), in
            ;; float32 row by row; through the tile scratch so that a partial block writes ncols floats
            (local.set $c00 (v128.const i32x4 0 0 0 0))
            (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c02 (v128.const i32x4 0 0 0 0))
            (local.set $c03 (v128.const i32x4 0 0 0 0))
            (local.set $dst (local.get $pack))
            (block $summed
              (loop $sumRow
                (br_if $summed (i32.ge_u (local.get $dst) (local.get $biasAt)))
                (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $dst))))
                (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $dst))))
                (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $dst))))
                (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $dst))))
                (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
                (br $sumRow)))
            (v128.store offset=64 (local.get $biasAt) (local.get $c00))
            (v128.store offset=80 (local.get $biasAt) (local.get $c01))
            (v128.store offset=96 (local.get $biasAt) (local.get $c02))
            (v128.store offset=112 (local.get $biasAt) (local.get $c03))
            (memory.copy (i32.add (local.get $bsum) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $biasAt) (i32.const 64))
              (i32.shl (local.get $ncols) (i32.const 2)))))
        (if (local.get $hasBias)
          (then (memory.copy (local.get $biasAt) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (i32.shl (local.get $ncols) (i32.const 2)))))
        (local.set $i (i32.const 0))
        (block $iDone
          (loop $iLoop
            (br_if $iDone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $c00 (v128.load (local.get $biasAt)))
            (local.set $c01 (v128.load offset=16 (local.get $biasAt)))
            (local.set $c02 (v128.load offset=32 (local.get $biasAt)))
            (local.set $c03 (v128.load offset=48 (local.get $biasAt)))
            (local.set $c10 (local.get $c00))
            (local.set $c11 (local.get $c01))
            (local.set $c12 (local.get $c02))
            (local.set $c13 (local.get $c03))
            (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $aRow))))
            (local.set $aRow2 (select (local.get $aRow) (i32.const 0) (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m))))
            (local.set $pb (local.get $pack))
            (local.set $pbEnd (local.get $biasAt))
            (if (i32.and (i32.eq (local.get $tri) (i32.const 1)) (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $k)))
              (then (local.set $pbEnd (i32.add (local.get $pack) (i32.shl (i32.add (local.get $i) (i32.const 2)) (i32.const 6))))))
            (if (i32.eq (local.get $tri) (i32.const 2))
              (then
                ;; the first k, min(i, k), in $col (free once the block is packed)
                (local.set $col (select (local.get $i) (local.get $k) (i32.lt_u (local.get $i) (local.get $k))))
                (local.set $pb (i32.add (local.get $pack) (i32.shl (local.get $col) (i32.const 6))))
                (local.set $pa (i32.add (local.get $pa) (i32.mul (local.get $col) (local.get $aCol))))))
            (if (i32.and (i32.eq (local.get $tri) (i32.const 3)) (i32.gt_u (local.get $j) (i32.add (local.get $i) (i32.const 1))))
              (then (local.set $pbEnd (local.get $pack))))
            (block $kDone
              (loop $kLoop
                (br_if $kDone (i32.ge_u (local.get $pb) (local.get $pbEnd)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $b2 (v128.load offset=32 (local.get $pb)))
                (local.set $b3 (v128.load offset=48 (local.get $pb)))
                (local.set $x (v128.load32_splat (local.get $pa)))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $x) (local.get $b2))))
                (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $x) (local.get $b3))))
                (local.set $x (v128.load32_splat (i32.add (local.get $pa) (local.get $aRow2))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $x) (local.get $b2))))
                (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $x) (local.get $b3))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aCol)))
                (local.set $pb (i32.add (local.get $pb) (i32.const 64)))
                (br $kLoop)))
            ;; Rows i and i + 1 (when i + 1 < m) of columns j .. j + ncols - 1: straight from the
            ;; registers for a whole block, else through the tile scratch after the bias block.
            (local.set $out (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $nb)) (i32.shl (local.get $j) (i32.const 2)))))
            (if (i32.eq (local.get $ncols) (i32.const 16))
              (then
                (v128.store (local.get $out) (local.get $c00))
                (v128.store offset=16 (local.get $out) (local.get $c01))
                (v128.store offset=32 (local.get $out) (local.get $c02))
                (v128.store offset=48 (local.get $out) (local.get $c03))
                (if (local.get $aRow2)
                  (then
                    (local.set $out (i32.add (local.get $out) (local.get $nb)))
                    (v128.store (local.get $out) (local.get $c10))
                    (v128.store offset=16 (local.get $out) (local.get $c11))
                    (v128.store offset=32 (local.get $out) (local.get $c12))
                    (v128.store offset=48 (local.get $out) (local.get $c13)))))
              (else
                (v128.store offset=64 (local.get $biasAt) (local.get $c00))
                (v128.store offset=80 (local.get $biasAt) (local.get $c01))
                (v128.store offset=96 (local.get $biasAt) (local.get $c02))
                (v128.store offset=112 (local.get $biasAt) (local.get $c03))
                (v128.store offset=128 (local.get $biasAt) (local.get $c10))
                (v128.store offset=144 (local.get $biasAt) (local.get $c11))
                (v128.store offset=160 (local.get $biasAt) (local.get $c12))
                (v128.store offset=176 (local.get $biasAt) (local.get $c13))
                (memory.copy (local.get $out) (i32.add (local.get $biasAt) (i32.const 64)) (i32.shl (local.get $ncols) (i32.const 2)))
                (if (local.get $aRow2)
                  (then
                    (memory.copy (i32.add (local.get $out) (local.get $nb)) (i32.add (local.get $biasAt) (i32.const 128))
                      (i32.shl (local.get $ncols) (i32.const 2)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $iLoop)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $jLoop))))

  ;; A batch of matmuls without bias: for o < outer, h < heads, the product of A at
  ;; a + o*aOuter + h*aHead and B at b + o*bOuter + h*bHead into C at c + o*cOuter + h*cHead (all
  ;; byte offsets), each with matmul's strides and tri; one call instead of one per slice.
  (func (export "matmul_batch")
    (param $a i32) (param $b i32) (param $c i32) (param $outer i32) (param $heads i32)
    (param $aOuter i32) (param $aHead i32) (param $bOuter i32) (param $bHead i32) (param $cOuter i32) (param $cHead i32)
    (param $m i32) (param $k i32) (param $n i32) (param $aRow i32) (param $aCol i32) (param $bRow i32) (param $bCol i32)
    (param $nb i32) (param $pack i32) (param $tri i32)
    (local $o i32) (local $h i32)
    (block $oDone
      (loop $oLoop
        (br_if $oDone (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $h (i32.const 0))
        (block $hDone
          (loop $hLoop
            (br_if $hDone (i32.ge_u (local.get $h) (local.get $heads)))
            (call $matmul
              (i32.add (i32.add (local.get $a) (i32.mul (local.get $o) (local.get $aOuter))) (i32.mul (local.get $h) (local.get $aHead)))
              (i32.add (i32.add (local.get $b) (i32.mul (local.get $o) (local.get $bOuter))) (i32.mul (local.get $h) (local.get $bHead)))
              (i32.add (i32.add (local.get $c) (i32.mul (local.get $o) (local.get $cOuter))) (i32.mul (local.get $h) (local.get $cHead)))
              (local.get $m) (local.get $k) (local.get $n) (i32.const 0) (i32.const 0)
              (local.get $aRow) (local.get $aCol) (local.get $bRow) (local.get $bCol) (local.get $pack) (local.get $tri) (local.get $nb) (i32.const 0))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br $hLoop)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $oLoop))))

  ;; Column sums out[j] = sum over rows of x[row][j], x (rows, c) with c a multiple of 4, summed in
  ;; double in acc (c doubles of scratch), four columns a step as two f64x2 pairs, then rounded once.
  ;; (A bias gradient. As the product ones(1, rows) . x on XNNPACK it repacks x as a weight matrix
  ;; on every call, ~10x the cost of this pass.)
  (func (export "column_sums") (param $x i32) (param $out i32) (param $acc i32) (param $rows i32) (param $c i32)
    (local $a i32) (local $accEnd i32) (local $end i32) (local $rowEnd i32) (local $v v128)
    (local.set $accEnd (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
    (local.set $a (local.get $acc))
    (block $z
      (loop $zl
        (br_if $z (i32.ge_u (local.get $a) (local.get $accEnd)))
        (v128.store (local.get $a) (v128.const i32x4 0 0 0 0))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $zl)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $c)) (i32.const 2))))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $a (local.get $acc))
        (block $d
          (loop $l
            (br_if $d (i32.ge_u (local.get $x) (local.get $rowEnd)))
            (local.set $v (v128.load (local.get $x)))
            (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $a)
              (f64x2.add (v128.load offset=16 (local.get $a))
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (br $l)))
        (br $row)))
    (local.set $a (local.get $acc))
    (block $w
      (loop $wl
        (br_if $w (i32.ge_u (local.get $a) (local.get $accEnd)))
        (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (v128.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $wl))))
)
