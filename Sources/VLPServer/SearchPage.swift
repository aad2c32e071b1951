/// The search page `vlp serve` shows at `/`: a text box and an image picker, results as a grid
/// of images with their scores and texts. One self-contained HTML file (no assets to fetch);
/// results are built with `textContent`, so texts from the index are never parsed as HTML.
/// `/?q=TEXT` opens with that search done, so a result page can be linked.
enum SearchPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>swift-vlp search</title>
    <style>
      body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
      form { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin-bottom: 1rem; }
      input[type=text] { flex: 1 1 24rem; font-size: 1.1rem; padding: .4rem .6rem; }
      button { font-size: 1rem; padding: .4rem .9rem; }
      #status { color: #666; min-height: 1.4em; }
      #results { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 1rem; }
      figure { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: .5rem; }
      figure img { width: 100%; aspect-ratio: 1; object-fit: contain; background: #f4f4f4; }
      figcaption { font-size: .85rem; word-break: break-word; }
      .score { font-weight: 600; }
      .error { color: #b00020; }
    </style>
    </head>
    <body>
    <h1>swift-vlp search</h1>
    <form id="text-form">
      <input type="text" id="q" name="q" placeholder="描述你要找的图片 / describe the image you want" autofocus>
      <label>k <input type="number" id="k" value="12" min="1" max="1000" style="width:4.5rem"></label>
      <label>re-rank <input type="number" id="rerank" value="0" min="0" max="100" style="width:4rem" title="re-order the top K with R2D2's cross encoders"></label>
      <label>find <select id="target"><option value="images">images</option><option value="texts">texts</option></select></label>
      <button type="submit">Search</button>
      <label>or by image <input type="file" id="image" accept="image/jpeg,image/png,image/webp"></label>
    </form>
    <div id="status"></div>
    <div id="results"></div>
    <script>
    const status = document.getElementById('status');
    const results = document.getElementById('results');
    function show(answer) {
      results.replaceChildren();
      status.className = '';
      status.textContent = answer.results.length + ' results in ' + answer.milliseconds + ' ms';
      for (const r of answer.results) {
        const figure = document.createElement('figure');
        const img = document.createElement('img');
        img.src = r.image; img.alt = r.id; img.loading = 'lazy';
        const caption = document.createElement('figcaption');
        const score = document.createElement('div');
        score.className = 'score';
        score.textContent = '#' + r.rank + '  ' + r.score.toFixed(3) + (r.match !== undefined && r.match !== null ? '  (match ' + r.match.toFixed(3) + ')' : '');
        const id = document.createElement('div');
        id.textContent = r.id;
        caption.append(score, id);
        const shown = r.text !== undefined && r.text !== null ? [r.text] : r.texts.slice(0, 3);
        for (const t of shown) { const p = document.createElement('div'); p.textContent = t; caption.append(p); }
        figure.append(img, caption);
        results.append(figure);
      }
    }
    async function run(request) {
      status.className = ''; status.textContent = 'searching…';
      try {
        const response = await fetch(request.url, request.init);
        const answer = await response.json();
        if (!response.ok) throw new Error(answer.error ? answer.error.message : response.statusText);
        show(answer);
      } catch (error) {
        results.replaceChildren();
        status.className = 'error'; status.textContent = error.message;
      }
    }
    const k = () => encodeURIComponent(document.getElementById('k').value) + '&target=' + document.getElementById('target').value
      + '&rerank=' + encodeURIComponent(document.getElementById('rerank').value);
    const searchText = q => run({ url: '/api/search?q=' + encodeURIComponent(q) + '&k=' + k(), init: {} });
    document.getElementById('text-form').addEventListener('submit', event => {
      event.preventDefault();
      const q = document.getElementById('q').value;
      history.replaceState(null, '', '?q=' + encodeURIComponent(q));   // a result page can be linked
      searchText(q);
    });
    const initial = new URLSearchParams(location.search).get('q');
    if (initial) { document.getElementById('q').value = initial; searchText(initial); }
    document.getElementById('image').addEventListener('change', event => {
      const file = event.target.files[0];
      if (file) run({ url: '/api/search/image?k=' + k(), init: { method: 'POST', body: file } });
    });
    </script>
    </body>
    </html>
    """#
}
