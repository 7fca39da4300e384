// Seed 003's minimal completion (../shared/seeds/003_*.txt): the post gives only its loop
// fragment ("几乎所有的epoll程序都使用下面的框架"), which does not compile alone. Its 34 lines
// are below unchanged, in order, at column 0 as published (check-fragment.sh checks it against
// extract.sh's text: ctest, label posix). Every other line is added:
// - this comment, the #includes, `struct myepoll_data` ("md为自定义类型") and main's opening
//   lines up to the fragment: declarations (events[20], ev, line[MAXLINE] with MAXLINE 1024,
//   clientaddr, clilen, n, nfds, i, connfd; sockfd = -1, as the fragment never sets it before
//   the read branch uses it; one myepoll_data that md points to) and a listener on port 8003
//   (socket, SO_REUSEADDR, bind INADDR_ANY, listen 128, O_NONBLOCK, epoll_create(256), ADD of
//   listenfd with EPOLLIN|EPOLLET and data.fd), as the port (handlers/seed003.cc) adds them;
// - inside the loop, four lines, each ending in `// added`: `if ((` before and `) {}` after
//   the fragment's `n = read(sockfd, line, MAXLINE)) < 0 //读` (its unbalanced parenthesis
//   closed as the port closes it: the result is not acted on), and `md->fd = sockfd;`,
//   `md->ptr = line;` before `ev.data.ptr = md;` (the post's "添加数据");
// - the closing brace of main after the fragment.
// The fragment's bugs stay as the port keeps them: ET listener, one accept per event; one read
// per ET event; ev.data.ptr set in the read branch and data.fd compared with listenfd on every
// event (the epoll_data union misused); sockfd used before it is set; send without
// MSG_NOSIGNAL; connections never closed; strlen on an unterminated read buffer.
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXLINE 1024

struct myepoll_data {
  int fd;
  void* ptr;
};

int main() {
  struct epoll_event ev = {}, events[20];
  char line[MAXLINE] = {0};
  sockaddr_in clientaddr;
  socklen_t clilen = sizeof clientaddr;
  int nfds, i, connfd, n;
  int sockfd = -1;
  myepoll_data mdata = {};
  myepoll_data* md = &mdata;
  int listenfd = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(8003);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(listenfd, (sockaddr*)&addr, sizeof addr) != 0 || listen(listenfd, 128) != 0)
    return 1;
  fcntl(listenfd, F_SETFL, fcntl(listenfd, F_GETFL, 0) | O_NONBLOCK);
  int epfd = epoll_create(256);
  ev.data.fd = listenfd;
  ev.events = EPOLLIN | EPOLLET;
  epoll_ctl(epfd, EPOLL_CTL_ADD, listenfd, &ev);
for( ; ; )
{
nfds = epoll_wait(epfd,events,20,500);
for(i=0;i<nfds;++i)
{
if(events[i].data.fd==listenfd) //有新的连接
{
connfd = accept(listenfd,(sockaddr *)&clientaddr, &clilen); //accept这个连接
ev.data.fd=connfd;
ev.events=EPOLLIN|EPOLLET;
epoll_ctl(epfd,EPOLL_CTL_ADD,connfd,&ev); //将新的fd添加到epoll的监听队列中
}
else if( events[i].events&EPOLLIN ) //接收到数据,读socket
{
if (( // added
n = read(sockfd, line, MAXLINE)) < 0 //读
) {} // added
md->fd = sockfd; // added
md->ptr = line; // added
ev.data.ptr = md; //md为自定义类型,添加数据
ev.events=EPOLLOUT|EPOLLET;
epoll_ctl(epfd,EPOLL_CTL_MOD,sockfd,&ev);//修改标识符,等待下一个循环时发送数据,异步处理的精髓
}
else if(events[i].events&EPOLLOUT) //有数据待发送,写socket
{
struct myepoll_data* md = (myepoll_data*)events[i].data.ptr; //取数据
sockfd = md->fd;
send( sockfd, md->ptr, strlen((char*)md->ptr), 0 ); //发送数据
ev.data.fd=sockfd;
ev.events=EPOLLIN|EPOLLET;
epoll_ctl(epfd,EPOLL_CTL_MOD,sockfd,&ev); //修改标识符,等待下一个循环时接收数据
}
else
{
//其他的处理
}
}
}
}
