// askpa support console: keeps the live parts of a page up to date. The
// page works without this script; with it, each element marked
// data-live-src is fetched again whenever the server's event stream (the
// data-events URL on <main>) says something changed.
(function () {
  'use strict';
  var main = document.getElementById('main');
  var regions = document.querySelectorAll('[data-live-src]');
  if (!main || !regions.length || !main.getAttribute('data-events') || !window.EventSource || !window.fetch) {
    return;
  }
  var status = document.getElementById('live-status');
  var signIn = '/console/sign-in?ended=1';

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function clock() {
    var d = new Date();
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  // refresh fetches one region again and swaps its content, keeping the
  // keyboard focus on the same control when it is still there.
  function refresh(region) {
    if (region.busy) {
      region.again = true;
      return;
    }
    region.busy = true;
    fetch(region.getAttribute('data-live-src'), { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' } })
      .then(function (r) {
        if (r.status === 401) {
          window.location.assign(signIn);
          return null;
        }
        if (!r.ok) {
          throw new Error('HTTP ' + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var active = document.activeElement;
        var focusID = active && region.contains(active) ? active.id : '';
        region.innerHTML = html;
        if (focusID && document.getElementById(focusID)) {
          document.getElementById(focusID).focus();
        }
        say('Updated at ' + clock() + '. This page updates by itself.');
      })
      .catch(function () {
        say('This page could not update. It will try again.');
      })
      .then(function () {
        region.busy = false;
        if (region.again) {
          region.again = false;
          refresh(region);
        }
      });
  }

  var events = new EventSource(main.getAttribute('data-events'));
  events.addEventListener('change', function () {
    for (var i = 0; i < regions.length; i++) {
      refresh(regions[i]);
    }
  });
  events.addEventListener('signed-out', function () {
    events.close();
    window.location.assign(signIn);
  });
  events.onopen = function () {
    say('This page updates by itself.');
    document.documentElement.setAttribute('data-live', 'on');
  };
  events.onerror = function () {
    say('Live updates paused. Trying to reconnect…');
    if (events.readyState === EventSource.CLOSED) {
      // Refused rather than cut off: find out why (a 401 signs in again).
      refresh(regions[0]);
    }
  };
})();
