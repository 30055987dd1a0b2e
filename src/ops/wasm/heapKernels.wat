;; Element-wise training kernels that run on tfjs-backend-wasm's own heap: the module imports the
;; backend's memory, so it reads and writes tensors in place (src/ops/wasm/heapKernels.ts loads it).
;; `npx tsx bench/reference/build-heap-wasm.ts` assembles it into heapKernelsWasm.ts; a test checks
;; that the committed bytes are this file's. Every address is a byte offset into that memory.
(module
  (import "env" "memory" (memory 1))

  ;; GeLU and its derivative from geluTable.ts's table, the same arithmetic in the same order as
  ;; geluAndDerivative there (so the same float32 results): for n < count,
  ;;   s = min(max(x*scale + offset, 0), top),  i = floor(s),  u = s - i,
  ;;   y[n] = x * Phi_i(u),  dy[n] = dPhi_i(u)   (Phi = normal cdf, dPhi = Phi + x*phi),
  ;; each cubic c0 + u*(c1 + u*(c2 + u*c3)) in double from the 8 doubles of step i at co + 64*i.
  ;; NaN stays NaN (the saturating truncation sends it to step 0, u is NaN).
  (func (export "gelu")
    (param $x i32) (param $y i32) (param $dy i32) (param $count i32) (param $co i32)
    (param $scale f64) (param $offset f64) (param $top f64)
    (local $end i32) (local $v f64) (local $s f64) (local $i i32) (local $u f64) (local $k i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (f64.promote_f32 (f32.load (local.get $x))))
        (local.set $s
          (f64.min
            (f64.max (f64.add (f64.mul (local.get $v) (local.get $scale)) (local.get $offset)) (f64.const 0))
            (local.get $top)))
        (local.set $i (i32.trunc_sat_f64_u (local.get $s)))
        (local.set $u (f64.sub (local.get $s) (f64.convert_i32_u (local.get $i))))
        (local.set $k (i32.add (local.get $co) (i32.shl (local.get $i) (i32.const 6))))
        (f32.store (local.get $y)
          (f32.demote_f64
            (f64.mul (local.get $v)
              (f64.add (f64.load (local.get $k))
                (f64.mul (local.get $u)
                  (f64.add (f64.load offset=8 (local.get $k))
                    (f64.mul (local.get $u)
                      (f64.add (f64.load offset=16 (local.get $k))
                        (f64.mul (local.get $u) (f64.load offset=24 (local.get $k)))))))))))
        (f32.store (local.get $dy)
          (f32.demote_f64
            (f64.add (f64.load offset=32 (local.get $k))
              (f64.mul (local.get $u)
                (f64.add (f64.load offset=40 (local.get $k))
                  (f64.mul (local.get $u)
                    (f64.add (f64.load offset=48 (local.get $k))
                      (f64.mul (local.get $u) (f64.load offset=56 (local.get $k))))))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (br $next))))
)
