// cloop.c: the "plain C loop" reference for decode speed. A
// llama2.c-style float32 Llama decoder (RMSNorm, RoPE, GQA attention with a
// KV cache, SwiGLU FFN, tied LM head) with OpenMP over matrix rows, built
// with -Ofast -march=native and run on 2 threads. Random weights at the
// SmolLM2-135M shape; prints greedy decode tokens per second: the median
// of RUNS timed runs (default 3) after a warm-up, as npti bench reports.
//
//   gcc -Ofast -march=native -fopenmp scripts/bench/cloop.c -o out/cloop -lm
//   OMP_NUM_THREADS=2 out/cloop [TOKENS [RUNS]]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { DIM = 576, HIDDEN = 1536, LAYERS = 30, HEADS = 9, KV_HEADS = 3, HEAD_DIM = 64, VOCAB = 49152, MAX_SEQ = 1024 };
#define KV_DIM (KV_HEADS * HEAD_DIM)

typedef struct {
  float *emb;  // [VOCAB, DIM], tied with the LM head
  float *att_norm[LAYERS], *ffn_norm[LAYERS], *final_norm;
  float *wq[LAYERS], *wk[LAYERS], *wv[LAYERS], *wo[LAYERS];
  float *w1[LAYERS], *w2[LAYERS], *w3[LAYERS];
} Weights;

static unsigned long long rng = 88172645463325252ULL;
static float frand(void) {  // xorshift, uniform in [-0.05, 0.05)
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return ((rng >> 40) / (float)(1 << 24) - 0.5f) * 0.1f;
}
static float *alloc(size_t n, int fill) {
  float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
  for (size_t i = 0; i < n; i++) p[i] = fill ? frand() : 1.0f;
  return p;
}

static void rmsnorm(float *o, const float *x, const float *w, int n) {
  float ss = 0;
  for (int i = 0; i < n; i++) ss += x[i] * x[i];
  ss = 1.0f / sqrtf(ss / n + 1e-5f);
  for (int i = 0; i < n; i++) o[i] = w[i] * (ss * x[i]);
}

// xout[d] = W[d, n] · x[n], OpenMP over the rows of W.
static void matmul(float *xout, const float *x, const float *w, int n, int d) {
  int i;
#pragma omp parallel for private(i)
  for (i = 0; i < d; i++) {
    float val = 0.0f;
    for (int j = 0; j < n; j++) val += w[i * n + j] * x[j];
    xout[i] = val;
  }
}

static void softmax(float *x, int n) {
  float m = x[0];
  for (int i = 1; i < n; i++) if (x[i] > m) m = x[i];
  float s = 0;
  for (int i = 0; i < n; i++) { x[i] = expf(x[i] - m); s += x[i]; }
  for (int i = 0; i < n; i++) x[i] /= s;
}

static float x[DIM], xb[DIM], xb2[DIM], hb[HIDDEN], hb2[HIDDEN], q[DIM], att[HEADS * MAX_SEQ];
static float *kcache, *vcache, *logits;

static void forward(const Weights *w, int token, int pos) {
  memcpy(x, w->emb + (size_t)token * DIM, sizeof x);
  for (int l = 0; l < LAYERS; l++) {
    rmsnorm(xb, x, w->att_norm[l], DIM);
    float *k = kcache + ((size_t)l * MAX_SEQ + pos) * KV_DIM, *v = vcache + ((size_t)l * MAX_SEQ + pos) * KV_DIM;
    matmul(q, xb, w->wq[l], DIM, DIM);
    matmul(k, xb, w->wk[l], DIM, KV_DIM);
    matmul(v, xb, w->wv[l], DIM, KV_DIM);
    for (int i = 0; i < DIM; i += 2) {  // RoPE, interleaved pairs as in llama2.c
      int hd = i % HEAD_DIM;
      float f = 1.0f / powf(100000.0f, hd / (float)HEAD_DIM), c = cosf(pos * f), s = sinf(pos * f);
      for (int t = 0; t < (i < KV_DIM ? 2 : 1); t++) {
        float *vec = t == 0 ? q : k;
        float a = vec[i], b = vec[i + 1];
        vec[i] = a * c - b * s;
        vec[i + 1] = a * s + b * c;
      }
    }
    int h;
#pragma omp parallel for private(h)
    for (h = 0; h < HEADS; h++) {
      const float *qh = q + h * HEAD_DIM;
      float *a = att + h * MAX_SEQ;
      int kvh = h / (HEADS / KV_HEADS);
      for (int t = 0; t <= pos; t++) {
        const float *kt = kcache + ((size_t)l * MAX_SEQ + t) * KV_DIM + kvh * HEAD_DIM;
        float sc = 0;
        for (int i = 0; i < HEAD_DIM; i++) sc += qh[i] * kt[i];
        a[t] = sc / sqrtf(HEAD_DIM);
      }
      softmax(a, pos + 1);
      float *o = xb + h * HEAD_DIM;
      memset(o, 0, HEAD_DIM * sizeof(float));
      for (int t = 0; t <= pos; t++) {
        const float *vt = vcache + ((size_t)l * MAX_SEQ + t) * KV_DIM + kvh * HEAD_DIM;
        for (int i = 0; i < HEAD_DIM; i++) o[i] += a[t] * vt[i];
      }
    }
    matmul(xb2, xb, w->wo[l], DIM, DIM);
    for (int i = 0; i < DIM; i++) x[i] += xb2[i];
    rmsnorm(xb, x, w->ffn_norm[l], DIM);
    matmul(hb, xb, w->w1[l], DIM, HIDDEN);
    matmul(hb2, xb, w->w3[l], DIM, HIDDEN);
    for (int i = 0; i < HIDDEN; i++) hb[i] = hb[i] / (1.0f + expf(-hb[i])) * hb2[i];
    matmul(xb, hb, w->w2[l], HIDDEN, DIM);
    for (int i = 0; i < DIM; i++) x[i] += xb[i];
  }
  rmsnorm(x, x, w->final_norm, DIM);
  matmul(logits, x, w->emb, DIM, VOCAB);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 64, runs = argc > 2 ? atoi(argv[2]) : 3;
  if (steps < 2 || steps >= MAX_SEQ) { fprintf(stderr, "tokens must be in [2, %d)\n", MAX_SEQ); return 2; }
  if (runs < 1 || runs > 99) { fprintf(stderr, "runs must be in [1, 99]\n"); return 2; }
  Weights w;
  w.emb = alloc((size_t)VOCAB * DIM, 1);
  w.final_norm = alloc(DIM, 0);
  for (int l = 0; l < LAYERS; l++) {
    w.att_norm[l] = alloc(DIM, 0); w.ffn_norm[l] = alloc(DIM, 0);
    w.wq[l] = alloc(DIM * DIM, 1); w.wk[l] = alloc(KV_DIM * DIM, 1); w.wv[l] = alloc(KV_DIM * DIM, 1);
    w.wo[l] = alloc(DIM * DIM, 1);
    w.w1[l] = alloc(HIDDEN * DIM, 1); w.w2[l] = alloc(DIM * HIDDEN, 1); w.w3[l] = alloc(HIDDEN * DIM, 1);
  }
  kcache = alloc((size_t)LAYERS * MAX_SEQ * KV_DIM, 0);
  vcache = alloc((size_t)LAYERS * MAX_SEQ * KV_DIM, 0);
  logits = alloc(VOCAB, 0);
  // As npti bench does: a warm-up, then runs timed runs of the same greedy
  // decode from the same start, and their median.
  double rate[99];
  for (int r = -1; r < runs; r++) {
    int token = 1;
    forward(&w, token, 0);
    double t0 = now();
    for (int pos = 1; pos <= steps; pos++) {
      int best = 0;
      for (int i = 1; i < VOCAB; i++) if (logits[i] > logits[best]) best = i;
      token = best;
      forward(&w, token, pos);
    }
    if (r >= 0) rate[r] = steps / (now() - t0);
  }
  double sorted[99];
  memcpy(sorted, rate, runs * sizeof(double));
  qsort(sorted, runs, sizeof(double), cmp);
  double med = runs % 2 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
  printf("{\"decode_tok_s\": %.1f, \"tokens\": %d, \"runs\": [", med, steps);
  for (int r = 0; r < runs; r++) printf("%s%.1f", r ? ", " : "", rate[r]);
  printf("]}\n");
  return 0;
}
